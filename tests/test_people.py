"""People: every action and garment labelled from the pixels that drew it; patterns; determinism."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from synthdata.labels.extents import track_extents
from synthdata.labels.rows import KEYPOINT_MARGIN_M, label_chunk
from synthdata.recipe.loader import load_recipe
from synthdata.render import patterns
from synthdata.render.renderer import Renderer
from synthdata.world.actors import clothing
from synthdata.world.actors.actions import ACTIONS
from synthdata.world.actors.bodies import Proportions, skeleton
from synthdata.world.actors.motion import frame_times, track_state
from synthdata.world.geometry.shapes import to_world, yaw_axes
from synthdata.world.planning.planner import PERSON_TURN_S
from synthdata.world.sample import sample_clip
from synthdata.world.simulate import simulate
from synthdata.world.types import CAPSULE, CONE, FRUSTUM, Shapes

STAND = ("sit", "crouch", "weight_shift")
WALK = ("push_pram", "push_trolley", "walk_together")
BOTH = ("phone_call", "phone_look", "wave", "carry_box")


def recipe_text(seed: int = 5) -> str:
    groups = [f"  - {{type: person, count: 1, behavior: stand, action: {a}, age: adult, enters: false}}" for a in STAND]
    groups += [f"  - {{type: person, count: 2, behavior: walk, action: {a}, age: adult, enters: false, leaves: false}}"
               for a in WALK]
    groups += [f"  - {{type: person, count: 1, behavior: walk, action: {a}, age: adult, enters: false, leaves: false}}"
               for a in BOTH]
    groups += ["  - {type: person, count: 1, behavior: walk, action: none, top: coat, bottom: skirt, hair: long,"
               " hat: hood, fabric: stripes, enters: false, leaves: false}",
               "  - {type: person, count: 1, behavior: stand, action: none, top: dress, hat: cap, hair: ponytail,"
               " fabric: hivis}",
               "  - {type: person, count: 1, behavior: walk, action: none, top: sweater, hat: none, hair: long,"
               " enters: false, leaves: false}"]
    return f"""
name: people
seed: {seed}
output: {{clips: 1, frames_per_clip: 4, fps: 5, resolution: [224, 168], masks: true}}
scene:
  layout: {{type: street, size_m: [24, 22], trees: 0, buildings: 1, light_poles: 0}}
  camera: {{height_m: 3.0, tilt_deg: 14, hfov_deg: 75, distance_m: 0}}
  lighting: {{time_of_day: day}}
  sensor: {{shutter: 0.0, overlay: {{enabled: false}}}}
actors:
""" + "\n".join(groups) + "\n"


@pytest.fixture(scope="module")
def scene():
    recipe = load_recipe(recipe_text(), [], source="<people>")
    spec = sample_clip(recipe, 0, seed=13, clip_id="people-000000")
    world = simulate(spec)
    ext = track_extents(world)
    batch = Renderer(world, "cpu", part_bounds=ext.parts).render(0, world.num_frames)
    rows = label_chunk(world, batch, "people-000000", ext, masks=True)
    return spec, world, batch, rows


def test_every_action_is_drawn_and_labelled_per_row_and_per_track(scene):
    spec, world, batch, rows = scene
    people = {p.track_id: p for p in spec.people}
    seen = set()
    for k, tid in enumerate(rows["track_id"]):
        if rows["category"][k] != "person":
            assert rows["action"][k] is None
            continue
        p = people[tid]
        label = rows["action"][k]
        assert world.actor(tid).attributes["action"] == p.action
        if p.action == "none":
            assert label in ("walk", "run", "stand")
        elif p.action == "walk_together":
            assert label in ("walk_together", "stand")
        else:
            assert label == p.action
        if rows["visible_pixels"][k] > 0:
            seen.add(label)
    assert set(STAND + WALK + BOTH) <= seen, set(STAND + WALK + BOTH) - seen
    pairs = [p for p in spec.people if p.action == "walk_together"]
    assert pairs and all(people[p.companion_track_id].companion_track_id == p.track_id for p in pairs)
    gap = np.linalg.norm(world.actor(pairs[0].track_id).position - world.actor(pairs[0].companion_track_id).position, axis=1)
    assert np.all((gap > 0.5) & (gap < 0.9))                          # side by side
    props = {a.attributes["style"] for a in world.actors if a.category in ("bag", "cart")}
    assert {"box", "pram", "trolley"} <= props


def test_visible_boxes_are_instance_extents_and_keypoint_flags_follow_depth(scene):
    spec, world, batch, rows = scene
    inst = batch.instance.numpy()
    depth = batch.depth.numpy()
    checked = 0
    for k, tid in enumerate(rows["track_id"]):
        f = rows["frame"][k]
        ys, xs = np.nonzero(inst[f] == tid)
        if rows["w"][k] is None:
            assert len(ys) == 0
            continue
        assert (rows["x"][k], rows["y"][k]) == (xs.min(), ys.min())
        assert (rows["w"][k], rows["h"][k]) == (xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
        if rows["keypoints"][k] is not None:
            a = world.actor(tid)
            kp = np.asarray(rows["keypoints"][k]).reshape(17, 3)
            uv, z = world.camera.project(a.keypoints[f], f)
            for j in range(17):
                if kp[j, 2] == 0:
                    continue
                d = depth[f, int(np.floor(kp[j, 1])), int(np.floor(kp[j, 0]))]
                visible = d >= z[j] - a.keypoint_radius[j] - KEYPOINT_MARGIN_M
                assert kp[j, 2] == (2 if visible else 1)
                checked += 1
    assert checked > 50


def _without(shapes: Shapes, drop: list[int]) -> Shapes:
    keep = np.array([i for i in range(shapes.num_shapes) if i not in drop])
    pats = shapes.patterns()
    return Shapes(shapes.kind[keep], shapes.center[:, keep], shapes.end[:, keep], shapes.axes[:, keep],
                  shapes.size[:, keep], shapes.color[keep], shapes.material[keep], pats[0][keep], pats[1][keep],
                  pats[2][keep], pats[3][keep])


def _part_names(world, p) -> list[str]:
    st = track_state(p.track, frame_times(world.num_frames, world.fps), PERSON_TURN_S)
    sk = skeleton(p, st, frame_times(world.num_frames, world.fps))
    R = yaw_axes(st.yaw)
    xy = np.c_[st.xy, np.zeros(len(st.yaw))]
    _, names = clothing.dress(p, Proportions.of(p), sk, lambda x: to_world(x, xy, R=R),
                              lambda a: np.einsum("tij,tjk->tik", R, a), world.num_frames)
    return names


@pytest.mark.parametrize("part", ["coat", "hair", "hood", "skirt", "hat"])
def test_garments_and_hair_belong_to_their_persons_mask(scene, part):
    spec, world, batch, rows = scene
    owners = [p for p in spec.people if part in _part_names(world, p)]
    owner = max(owners, key=lambda p: int((batch.instance == p.track_id).sum()))
    names = _part_names(world, owner)
    actor = world.actor(owner.track_id)
    assert len(names) == actor.shapes.num_shapes
    idx = [i for i, n in enumerate(names) if n == part]
    alone = dataclasses.replace(world, actors=[actor])
    bare = dataclasses.replace(world, actors=[dataclasses.replace(actor, shapes=_without(actor.shapes, idx))])
    full = Renderer(alone, "cpu").render(0, world.num_frames).instance
    other = Renderer(bare, "cpu").render(0, world.num_frames).instance
    changed = full != other
    assert int(changed.sum()) > 0, f"{part} drew no pixel"
    assert bool((full[changed] == owner.track_id).all()), f"{part} pixels carry another id"


def test_long_hair_falls_over_the_back_below_the_shoulders(scene):
    """Long hair without a hood: besides the hair on the head, a fall from the back of the head
    over the back, its lower end below the shoulders and behind the back's surface, drawn in the
    owner's mask (not ended at the collar)."""
    spec, world, batch, rows = scene
    owner = next(p for p in spec.people if p.hair == "long" and p.outfit.hat == "none")
    actor = world.actor(owner.track_id)
    names = _part_names(world, owner)
    fall = [i for i, n in enumerate(names) if n == "hair" and actor.shapes.kind[i] == FRUSTUM]
    assert len(fall) == 1
    f = fall[0]
    top, low = actor.shapes.center[:, f], actor.shapes.end[:, f]
    shoulders = actor.keypoints[:, 5:7, 2].min(1)                 # COCO left/right shoulder heights
    assert bool((low[:, 2] < shoulders - 0.04 * owner.height_m).all()) and bool((top[:, 2] > shoulders).all())
    forward = np.stack([np.cos(actor.heading), np.sin(actor.heading)], -1)
    behind = np.sum((low[:, :2] - actor.position[:, :2]) * forward, -1)
    assert bool((behind < -0.1 * owner.height_m).all())          # out from the back, not inside the torso
    alone = dataclasses.replace(world, actors=[actor])
    bare = dataclasses.replace(world, actors=[dataclasses.replace(actor, shapes=_without(actor.shapes, fall))])
    full = Renderer(alone, "cpu").render(0, world.num_frames).instance
    changed = full != Renderer(bare, "cpu").render(0, world.num_frames).instance
    assert int(changed.sum()) > 0 and bool((full[changed] == owner.track_id).all())


def test_the_same_seed_gives_the_same_people_and_another_seed_others():
    r = load_recipe(recipe_text(), [], source="<people>")
    a = sample_clip(r, 0, seed=3, clip_id="p-000000")
    b = sample_clip(r, 0, seed=3, clip_id="p-000000")
    c = sample_clip(r, 0, seed=4, clip_id="p-000000")
    assert a.to_json() == b.to_json() and a.people[0].outfit is not None
    wa, wb = simulate(a), simulate(b)
    for x, y in zip(wa.actors, wb.actors):
        assert np.array_equal(x.shapes.center, y.shapes.center) and np.array_equal(x.shapes.pattern, y.shapes.pattern)
    looks = lambda s: [(p.skin_color, p.top_color, p.outfit.top, p.hair, round(p.height_m, 4)) for p in s.people]
    assert looks(a) != looks(c)


def test_sampled_people_span_ages_garments_and_skin_tones():
    r = load_recipe(recipe_text().replace("action: ", "carries_bag: false, action: "), [], source="<people>")
    r = load_recipe("""
name: crowd
seed: 1
output: {clips: 1, frames_per_clip: 2, fps: 5, resolution: [64, 48]}
scene: {layout: {type: street, size_m: [60, 30]}}
actors: [{type: person, count: 40, behavior: {choice: {walk: 0.6, stand: 0.4}}}]
""", [], source="<crowd>")
    people = [p for s in range(6) for p in sample_clip(r, 0, seed=s, clip_id="c-000000").people]
    assert {"adult", "child", "elderly"} <= {p.age for p in people}
    assert {"coat", "jacket", "tshirt", "dress"} <= {p.outfit.top for p in people}
    assert {"jeans", "skirt", "shorts"} <= {p.outfit.bottom for p in people}
    assert len({p.skin_color for p in people}) >= 8
    kids = [p for p in people if p.age == "child"]
    assert all(p.height_m < 1.5 and p.head_scale > 1.1 and p.leg_ratio < 0.95 for p in kids)
    dark = sum(int(p.top_color[1:3], 16) < 0x60 for p in people) / len(people)
    assert dark > 0.5                                              # mostly dark and neutral clothing


LIMB_JOINTS = {5: "shoulder", 6: "shoulder", 7: "elbow", 8: "elbow", 9: "wrist", 10: "wrist", 13: "knee", 14: "knee",
               15: "ankle", 16: "ankle"}


def test_each_limb_joints_keypoint_radius_holds_the_garments_that_meet_there():
    """A joint counts as visible when the depth in front of it is within its keypoint radius
    (labels/rows.py), so that radius must reach the surface of every sleeve, trouser leg or bare
    limb whose end is at the joint: else an unoccluded knee in wide trousers is flagged hidden."""
    tops, bottoms = ("tshirt", "sweater", "jacket", "coat", "dress"), ("trousers", "jeans", "shorts", "skirt")
    groups = "\n".join(f"  - {{type: person, count: 1, behavior: stand, top: {t}, bottom: {b}, enters: false}}"
                       for t in tops for b in bottoms)
    r = load_recipe(f"""
name: outfits
seed: 2
output: {{clips: 1, frames_per_clip: 2, fps: 5, resolution: [64, 48]}}
scene: {{layout: {{type: street, size_m: [40, 30]}}}}
actors:
{groups}
""", [], source="<outfits>")
    checked = set()
    for seed in range(2):
        world = simulate(sample_clip(r, 0, seed=seed, clip_id="o-000000"))
        for a in (a for a in world.actors if a.category == "person"):
            s, outfit = a.shapes, (a.attributes["top"], a.attributes["bottom"])
            for q in np.nonzero((s.kind == CONE) | (s.kind == CAPSULE))[0]:
                ends = ((s.center[:, q], s.size[:, q, 0]), (s.end[:, q], s.size[:, q, 1 if s.kind[q] == CONE else 0]))
                for at, radius in ends:
                    near = np.linalg.norm(a.keypoints - at[:, None], axis=-1).max(0) < 1e-6     # (17,)
                    for j in np.nonzero(near)[0]:
                        if j in LIMB_JOINTS:
                            assert radius.max() <= a.keypoint_radius[j] + 1e-9, (outfit, LIMB_JOINTS[j])
                            checked.add((outfit, LIMB_JOINTS[j]))
    assert len({o for o, _ in checked}) >= 15                     # most of the 20 outfits drawn and placed
    assert {j for _, j in checked} == set(LIMB_JOINTS.values())


def _compiled_patterns(kind, x, y, z, scale, seed, fp, mix, shade):
    for i in range(kind.shape[0]):
        mix[i] = patterns.pattern_mix(kind[i], x[i], y[i], z[i], scale[i], seed[i], fp[i])
        shade[i] = patterns.pattern_shade(kind[i], x[i], y[i], z[i], scale[i], seed[i], fp[i])


def test_pattern_maths_is_plain_python_and_matches_the_compiled_kernels():
    """The kernels compile render/patterns.py with numba; plain Python calls give the same values."""
    import numba

    evaluate = numba.njit(_compiled_patterns)
    rng = np.random.default_rng(0)
    n = 400
    kind = rng.integers(0, len(patterns.PATTERNS), n).astype(np.int64)
    xyz = rng.uniform(-0.3, 0.3, (3, n)).astype(np.float32)
    scale = rng.uniform(0.02, 0.2, n).astype(np.float32)
    seed = rng.integers(0, 2**31 - 1, n).astype(np.int64)
    mix, shade = np.empty(n, np.float32), np.empty(n, np.float32)
    fp = np.where(np.arange(n) % 2 == 0, 0.0, rng.uniform(0.001, 0.05, n)).astype(np.float32)
    evaluate(kind, xyz[0], xyz[1], xyz[2], scale, seed, fp, mix, shade)
    for i in range(0, n, 7):
        args = (int(kind[i]), float(xyz[0, i]), float(xyz[1, i]), float(xyz[2, i]), float(scale[i]), int(seed[i]),
                float(fp[i]))
        assert math.isclose(patterns.pattern_mix(*args), mix[i], abs_tol=1e-4)
        assert math.isclose(patterns.pattern_shade(*args), shade[i], abs_tol=1e-4)
    assert 0.0 <= mix.min() and mix.max() <= 1.0 and 0.5 < shade.min() and shade.max() < 1.5
    assert patterns.PATTERNS.index("face") == clothing.FACE and patterns.PATTERNS.index("hair") == clothing.HAIR
    assert {k: patterns.PATTERNS.index(v if v != "plain" else "cloth") for k, v in
            zip(clothing.FABRIC_KIND, clothing.FABRIC_KIND)} == clothing.FABRIC_KIND


def test_stripes_and_the_face_show_in_the_pixels(scene):
    spec, world, batch, rows = scene
    striped = next(p for p in spec.people if p.outfit.top_fabric == "stripes")
    mask = batch.instance == striped.track_id
    lum = batch.rgb.float().mean(-1)[mask]
    assert float(lum.std()) > 12.0                                   # not a flat colour
    assert set(ACTIONS) >= set(STAND + WALK + BOTH)


def test_pattern_details_finer_than_the_pixel_fade_to_their_mean_instead_of_aliasing():
    stripes = [patterns.pattern_mix(patterns.STRIPES, 0.1, 0.0, z, 0.03, 5, 0.0) for z in np.linspace(0, 0.3, 61)]
    assert set(stripes) == {0.0, 1.0}                                      # sharp when unfiltered
    far = [patterns.pattern_mix(patterns.STRIPES, 0.1, 0.0, z, 0.03, 5, 0.02) for z in np.linspace(0, 0.3, 61)]
    assert np.ptp(far) == 0.0 and math.isclose(far[0], 0.45)              # 1.5 px a stripe pair: the mean
    near = [patterns.pattern_mix(patterns.STRIPES, 0.1, 0.0, z, 0.03, 5, 0.005) for z in np.linspace(0, 0.3, 61)]
    assert set(near) == {0.0, 1.0}                                         # 6 px a period: resolved
    weave = [patterns.pattern_shade(patterns.DENIM, 0.1, 0.05, z, 0.03, 5, 0.01) for z in np.linspace(0, 0.01, 9)]
    assert np.ptp(weave) < np.ptp([patterns.pattern_shade(patterns.DENIM, 0.1, 0.05, z, 0.03, 5, 0.0)
                                   for z in np.linspace(0, 0.01, 9)])
