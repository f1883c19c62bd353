"""Scripted security behaviours, sampled and simulated from the shipped recipes, produce the
events their geometry defines (and only then), deterministically; one clip renders end to end."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest

from synthdata.plan import clip_seed
from synthdata.recipe import load_recipe
from synthdata.world.sample import sample_clip
from synthdata.world.simulate import simulate
from synthdata.world.spec import ClipSpec

RECIPES = pathlib.Path(__file__).resolve().parents[1] / "recipes"
SMALL = ["output.resolution=[64,48]"]


def clips(name: str, overrides: list[str], n: int = 3):
    """(spec, world) for the first n clips of a shipped recipe with overrides."""
    recipe = load_recipe(RECIPES / f"{name}.yaml", SMALL + overrides)
    for i in range(n):
        spec = sample_clip(recipe, i, seed=clip_seed(recipe.seed, i), clip_id=f"{recipe.name}-{i:06d}")
        yield spec, simulate(spec)


def acted(spec: ClipSpec, behaviour: str) -> list[list[int]]:
    return [a.track_ids for a in spec.security.acts if a.behavior == behaviour and a.track_ids]


def events(world, kind: str, track_id: int | None = None) -> list:
    return [e for e in world.events if e.type == kind and (track_id is None or e.track_id == track_id)]


def check_each(name: str, overrides: list[str], behaviour: str, check) -> None:
    """Run `check(spec, world, ids)` on every clip whose behaviour got planned; need one."""
    planned = 0
    for spec, world in clips(name, overrides):
        for ids in acted(spec, behaviour):
            check(spec, world, ids)
            planned += 1
    assert planned, f"{behaviour} was never planned in {name}"


def test_perimeter_crossing_and_intrusion():
    over = ["scenario.line_crossing.probability=1", "scenario.line_crossing.turn_back=false",
            "scenario.line_crossing.direction=a_to_b", "scenario.intrusion.probability=1",
            "scenario.intrusion.through=true"]

    def crossing(spec, world, ids):
        evs = events(world, "line_crossing", ids[0])
        assert evs and evs[0].zone == "perimeter" and evs[0].attributes["direction"] == "a_to_b"

    def intruded(spec, world, ids):
        evs = events(world, "intrusion", ids[0])
        assert evs and all(e.zone == "yard" for e in evs)

    check_each("security_perimeter_night", over, "line_crossing", crossing)
    check_each("security_perimeter_night", over, "intrusion", intruded)


def test_turning_back_before_the_line_is_no_crossing():
    over = ["scenario.line_crossing.probability=1", "scenario.line_crossing.turn_back=true",
            "scenario.intrusion.probability=0"]
    check_each("security_perimeter_night", over, "line_crossing",
               lambda spec, world, ids: pytest.fail("crossed") if events(world, "line_crossing", ids[0]) else None)


def test_skirting_the_yard_is_no_intrusion():
    over = ["scenario.intrusion.probability=1", "scenario.intrusion.through=false",
            "scenario.line_crossing.probability=0"]
    check_each("security_perimeter_night", over, "intrusion",
               lambda spec, world, ids: pytest.fail("intruded") if events(world, "intrusion", ids[0]) else None)


def test_lobby_loitering_and_a_bag_left_then_taken():
    over = ["scenario.loitering.probability=1", "scenario.abandoned_bag.probability=1",
            "scenario.abandoned_bag.pickup_probability=1", "scenario.abandoned_bag.pickup_by=other"]

    def loitered(spec, world, ids):
        assert [e.zone for e in events(world, "loitering", ids[0])] == ["waiting_area"]

    def bag(spec, world, ids):
        owner, bag_id = ids[0], ids[1]
        (left,) = events(world, "abandoned_object", bag_id)
        assert left.attributes["owner_track_id"] == owner
        if len(ids) == 3:                                    # someone else came for it
            (taken,) = events(world, "object_removed", bag_id)
            assert taken.attributes["picked_by"] == ids[2] and taken.start_frame > left.attributes["alarm_frame"]

    check_each("security_lobby", over, "loitering", loitered)
    check_each("security_lobby", over, "abandoned_bag", bag)


@pytest.mark.parametrize("by", ["owner", "other"])
def test_every_left_bag_is_abandoned_before_anyone_takes_it(by):
    # the pick-up waits for events.abandoned_s after the owner is events.abandoned_distance_m away,
    # and a bag goes down / comes up only while the person handling it stands at it
    over = ["scenario.loitering.probability=0", "scenario.abandoned_bag.probability=1",
            "scenario.abandoned_bag.pickup_probability=1", f"scenario.abandoned_bag.pickup_by={by}"]
    picked = 0
    for spec, world in clips("security_lobby", over, n=10):
        for d in spec.security.bag_drops:
            (left,) = events(world, "abandoned_object", d.bag_track_id)
            assert left.attributes["owner_track_id"] == d.owner_track_id
            moves = [(d.owner_track_id, d.drop_s, d.rest_s)]
            if d.pickup and d.pickup.lift_s * spec.fps < spec.num_frames - 1:   # lifted in the clip
                (taken,) = events(world, "object_removed", d.bag_track_id)
                assert taken.attributes["picked_by"] == d.pickup.by_track_id
                assert taken.start_frame > left.attributes["alarm_frame"]
                moves.append((d.pickup.by_track_id, d.pickup.lift_s, d.pickup.held_s))
                picked += 1
            for track_id, t0, t1 in moves:
                xy = world.actor(track_id).position[int(np.ceil(t0 * spec.fps)):int(t1 * spec.fps) + 1, :2]
                assert np.ptp(xy, axis=0).max() < 0.02, f"{spec.clip_id}: track {track_id} walks while handling the bag"
    assert picked >= 5


def test_loitering_too_briefly_is_no_loitering():
    # 2 s of wandering plus walking in and out of the 2 m disc at >= 1 m/s stays well under 12 s
    over = ["scenario.loitering.probability=1", "scenario.loitering.duration_s=2", "events.loitering_s=12",
            "scenario.abandoned_bag.probability=0"]
    check_each("security_lobby", over, "loitering",
               lambda spec, world, ids: pytest.fail("loitered") if events(world, "loitering", ids[0]) else None)


def test_illegal_parking_in_the_fire_lane():
    def parked(spec, world, ids):
        (ev,) = events(world, "illegal_parking", ids[0])
        assert ev.zone == "fire_lane" and ev.end_frame - ev.start_frame + 1 >= 5 * spec.fps

    check_each("security_parking_illegal", ["scenario.illegal_parking.probability=1"], "illegal_parking", parked)


def test_plaza_crowd_runner_and_wrong_way_driver():
    over = ["scenario.crowd.probability=1", "scenario.crowd.size=7", "scenario.running.probability=1",
            "scenario.wrong_way.probability=1"]

    gathered = []

    def crowd(spec, world, ids):
        overlap = [len(set(e.track_ids) & set(ids)) for e in events(world, "crowd")]
        if len(ids) >= 5:          # enough people planned: one crowd event holds at least 5 of them
            assert overlap and max(overlap) >= 5, (ids, overlap)
            gathered.append(len(ids))
        else:                      # the planner kept fewer than 5: no crowd of them is reported
            assert not overlap, (ids, overlap)

    check_each("security_plaza_crowd", over, "crowd", crowd)
    assert gathered, "no clip planned a crowd of 5 or more"
    check_each("security_plaza_crowd", over, "running",
               lambda spec, world, ids: events(world, "running", ids[0]) or pytest.fail("no running"))
    check_each("security_plaza_crowd", over, "wrong_way",
               lambda spec, world, ids: [e.zone for e in events(world, "wrong_way", ids[0])] == ["near_lane"]
               or pytest.fail("no wrong_way"))


def test_a_dispersing_crowd_gathers_in_full():
    # members walk in from and leave to their own side of the group, so the planner seldom drops any
    over = ["scenario.crowd.probability=1", "scenario.crowd.size=7", "scenario.crowd.disperse=true",
            "scenario.running.probability=0", "scenario.wrong_way.probability=0"]
    full = 0
    for spec, world in clips("security_plaza_crowd", over, n=10):
        for ids in acted(spec, "crowd"):
            full += any(len(set(e.track_ids) & set(ids)) >= 5 for e in events(world, "crowd"))
    assert full >= 8


def test_corridor_fall_lies_still_to_the_end():
    def fell(spec, world, ids):
        (ev,) = events(world, "fall", ids[0])
        (script,) = spec.security.falls
        start = script.start_s * spec.fps
        assert start - 1 <= ev.start_frame <= start + script.duration_s * spec.fps + 1
        assert ev.end_frame == spec.num_frames - 1
        assert not events(world, "loitering", ids[0])           # lying is not loitering

    check_each("security_corridor_fall", ["scenario.fall.probability=1", "scenario.tamper.probability=0"],
               "fall", fell)


def test_security_clips_repeat_exactly_from_their_clip_spec():
    for spec, world in clips("security_lobby", ["scenario.loitering.probability=1"], n=1):
        again = simulate(ClipSpec.from_json(spec.to_json()))
        assert "loitering" in {e.type for e in world.events}
        assert [(e.type, e.start_frame, e.end_frame, e.track_id, e.zone) for e in world.events] == \
               [(e.type, e.start_frame, e.end_frame, e.track_id, e.zone) for e in again.events]
        (spec2, _), = clips("security_lobby", ["scenario.loitering.probability=1"], n=1)
        assert spec2.to_json() == spec.to_json()


def test_shipped_recipe_renders_a_clip_with_its_events():
    from synthdata.pipeline import generate_clip

    recipe = load_recipe(RECIPES / "security_corridor_fall.yaml", [
        "output.resolution=[64,48]", "output.fps=5", "output.frames_per_clip=30", "output.chunk_frames=16",
        "scenario.fall.probability=1", "scenario.fall.start_s=2", "scenario.tamper.probability=1",
        "scenario.tamper.kind=blur", "scenario.tamper.start_s=4"])
    clip = None
    for index in range(3):
        clip = generate_clip(recipe, index, device="cpu")
        if any(r["type"] == "fall" for r in clip.events):
            break
    frames = sum(len(chunk.frames) for chunk in clip.chunks)
    assert frames == 30
    kinds = {r["type"]: r for r in clip.events}
    assert {"fall", "camera_tamper"} <= set(kinds)
    assert kinds["camera_tamper"]["track_id"] is None and '"kind":"blur"' in kinds["camera_tamper"]["attributes"]
    assert kinds["fall"]["track_id"] in {t["track_id"] for t in clip.tracks}
    assert [r["event_id"] for r in clip.events] == list(range(len(clip.events)))


def test_a_left_backpack_stands_whole_on_the_ground_then_hangs_from_its_picker():
    # a soft pack (world/actors/props.py: an oval body and a rounded top) is put down and picked up
    # by a rigid move of its parts: on the ground its body is upright, its bottom at z = 0 and its
    # parts keep their sizes and spacing; carried off, it hangs below the picker's right wrist
    over = ["scenario.loitering.probability=0", "scenario.abandoned_bag.probability=1",
            "scenario.abandoned_bag.style=backpack", "scenario.abandoned_bag.pickup_probability=1",
            "output.frames_per_clip=300"]
    checked = 0
    for spec, world in clips("security_lobby", over, n=4):
        for d in spec.security.bag_drops:
            bag = world.actor(d.bag_track_id)
            sh, fps = bag.shapes, spec.fps
            body = [i for i in range(sh.num_shapes) if sh.kind[i] != 1]      # not the straps (capsules)
            rest = int(np.ceil(d.rest_s * fps)) + 1
            carried = max(int(d.drop_s * fps) - 1, 0)
            axis = sh.end[rest, body[0]] - sh.center[rest, body[0]]
            assert abs(sh.center[rest, body[0], 2]) < 1e-9 and np.allclose(axis[:2], 0, atol=1e-9)    # upright, on the floor
            assert np.allclose(bag.position[rest], [*d.rest_xy, 0.0])
            for t in (carried, rest):
                gaps = [np.linalg.norm(sh.center[t, i] - sh.center[t, body[0]]) for i in body[1:]]
                assert np.allclose(gaps, [np.linalg.norm(sh.center[0, i] - sh.center[0, body[0]]) for i in body[1:]])
            assert np.array_equal(sh.size[rest], sh.size[0])
            if d.pickup and d.pickup.held_s * fps < spec.num_frames - 1:
                t = int(np.ceil(d.pickup.held_s * fps)) + 1
                wrist = world.actor(d.pickup.by_track_id).keypoints[t, 10]
                top = sh.center[t, body[-1], 2] + sh.size[t, body[-1], 2]
                assert wrist[2] - 0.2 < top < wrist[2] and np.linalg.norm(sh.center[t, body[0], :2] - wrist[:2]) < 1e-6
            checked += 1
    assert checked >= 2
