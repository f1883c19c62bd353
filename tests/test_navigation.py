"""People's navigation grid: routes keep the clearance they are asked for, a wide mover (a pair
side by side, a pram, a trolley) as much as a single walker, around an obstacle and in a small
real camera view; a plate's grid is as fine as the floor the camera sees; someone coming into
view whose way is taken comes in later rather than not at all; someone already in view whose way
is taken whatever the start waits on the way, or starts where nobody stands; nobody can be seen
behind a camera that looks ahead and down; people coming into the lobby camera's view walk in from
under it and stand at the table's near side, as the real clip's people do; the compiled point and
segment tests agree with the polygons and footprints they stand for."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from synthdata.recipe.loader import load_recipe
from synthdata.world.geometry.shapes import Footprints, inside_any
from synthdata.world.layouts.plate import nav_cell
from synthdata.world.layouts.registry import build_layout
from synthdata.world.planning.navigation import NavGrid, view_masks
from synthdata.world.planning.planner import DELAYS, NAV_CLEARANCE, Occupant, Planner
from synthdata.world.planning.walks import YIELD_STEP_S, free_at_start, try_yield, wait_at
from synthdata.world.spec import Track
from synthdata.world.sample import sample_clip
from synthdata.world.simulate import make_camera

LOBBY = Path(__file__).resolve().parents[1] / "recipes" / "plate_lobby.yaml"


def hall() -> NavGrid:
    """A 10 x 4 m floor with a 1 x 0.6 m table in the middle, on a 0.25 m grid."""
    floor = np.array([[0, 0], [10, 0], [10, 4], [0, 4]], float)
    table = Footprints(Footprints.segment((4.5, 2.0), (5.5, 2.0), 0.3))
    return NavGrid((0.0, 0.0, 10.0, 4.0), [floor], table, NAV_CLEARANCE, cell=0.25)


def keeps(nav: NavGrid, path: np.ndarray, clearance: float) -> bool:
    return all(nav.segment_ok(a, b, clearance, step=0.02) for a, b in zip(path[:-1], path[1:]))


def test_point_and_segment_tests_agree_with_the_polygons_and_footprints():
    """Two walkable polygons, a keep-out one and three obstacles: `point_ok` is inside a walkable
    polygon, outside the keep-out and beyond the clearance; `segment_ok` is `point_ok` at every
    sample np.linspace would take, both ends included."""
    walk = [np.array([[0, 0], [6, 0], [6, 4], [0, 4]], float), np.array([[6, 1], [9, 1], [8, 3]], float)]
    keep = [np.array([[2, 2], [3, 2], [3, 3], [2, 3]], float)]
    obstacles = Footprints(np.stack([Footprints.rect(4.5, 1.0, 0.4, 0.3, 0.3), Footprints.disc(1.0, 3.0, 0.3),
                                     Footprints.segment((7, 1.5), (8, 2.5), 0.1)]))
    grid = NavGrid((0, 0, 9, 4), walk, obstacles, clearance=0.2, cell=0.5, keep_out=keep)
    rng = np.random.default_rng(3)

    def expected(pts, clearance):
        return inside_any(pts, walk) & ~inside_any(pts, keep) & (obstacles.distance(pts) > clearance)

    pts = rng.uniform([-1, -1], [10, 5], (4000, 2))
    for clearance in (None, 0.0, 0.5):
        got = grid.point_ok(pts, clearance)
        assert np.array_equal(got, expected(pts, 0.2 if clearance is None else clearance))
        assert 0.2 < got.mean() < 0.8                       # both answers are exercised
    verdicts = []
    for a, b in rng.uniform([-0.5, -0.5], [9.5, 4.5], (300, 2, 2)):
        for step in (0.15, 0.05):
            n = max(int(np.ceil(np.hypot(*(b - a)) / step)), 1)
            s = np.linspace(0, 1, n + 1)[:, None]
            want = bool(expected(a * (1 - s) + b * s, 0.2).all())
            assert grid.segment_ok(a, b, step=step) == want, (a, b, step)
            verdicts.append(want)
    assert 0.1 < np.mean(verdicts) < 0.9
    assert grid.segment_ok(np.array([0.5, 0.5]), np.array([0.5, 0.5]))      # a point is a segment


def test_a_wide_mover_routes_around_an_obstacle_keeping_its_own_clearance():
    nav = hall()
    a, b = np.array([3.0, 2.0]), np.array([7.0, 2.0])            # the table between them
    assert not nav.segment_ok(a, b, 0.35)
    for clearance in (0.35, 0.8, 1.0):                           # a walker; a pair; a pram
        path = nav.route(a, b, clearance)
        assert path is not None, clearance
        assert np.allclose(path[0], a) and np.allclose(path[-1], b) and keeps(nav, path, clearance)
    assert nav.free_for(0.35) is nav.free and nav.free_for(1.0).sum() < nav.free.sum()
    assert nav.route(a, b, 1.9) is None                         # no way past for something 3.8 m wide


def test_prams_and_pairs_find_their_way_in_the_shipped_lobby_camera():
    """The lobby's floor is small and its table sits mid-view: routes that hug it at a walker's
    clearance have no room for a pram, so before routes kept the mover's own clearance every pram
    here was dropped."""
    r = load_recipe(LOBBY, ["output.clips=12", "actors.0.behavior=walk", "actors.0.action=push_pram",
                            "actors.0.count=1"])
    planned = 0
    for i in range(r.output.clips):
        spec = sample_clip(r, i, seed=300 + i, clip_id=f"c{i}")
        planned += sum(p.action == "push_pram" for p in spec.people)
    assert planned >= 4


def test_a_plates_grid_follows_the_floor_in_view_not_the_ground_continued_out_of_it():
    """The lobby plate's floor is a few square metres in view, continued 6 m out of view on each
    side for people to come and go: a grid sized by all of it had five cells in view, all on one
    side of the table, so every standing person stood there."""
    r = load_recipe(LOBBY, ["output.clips=40", "actors.0.behavior=stand", "scenario.line_crossing.probability=0"])
    spec = sample_clip(r, 0, seed=700, clip_id="c0")
    plate = spec.layout.plate
    assert 2.0 < plate["view_area_m2"] < 8.0
    whole = nav_cell([np.asarray(q, float) for q in plate["walkable"]])
    assert nav_cell([np.asarray(q, float) for q in plate["walkable"]], plate["view_area_m2"]) == 0.15 < whole
    assert build_layout(spec.layout).nav_cell_m == 0.15
    older = {k: v for k, v in plate.items() if k != "view_area_m2"}        # a clip compiled before it was kept
    assert build_layout(dataclasses.replace(spec.layout, plate=older)).nav_cell_m == whole
    xs = [p.track.xy[0][0] for i in range(r.output.clips)
          for p in sample_clip(r, i, seed=700 + i, clip_id=f"c{i}").people]
    table_x = 0.32                                   # the table's foot (examples/plates/lobby/sketch.png)
    assert sum(x < table_x for x in xs) >= 10 and sum(x > table_x for x in xs) >= 10


def test_someone_coming_into_view_whose_way_is_taken_comes_in_later():
    """A person stands in a doorway for the first 4.5 s of a 10 s clip. A walker entering through
    it waits longer than the in-view delays allow and comes in once the way is free; a walker
    already in view at the start would have to stand as long, and is refused instead."""
    r = load_recipe(LOBBY, ["output.frames_per_clip=100"])
    spec = sample_clip(r, 0, seed=5, clip_id="c0")
    times = np.arange(100) / 10.0
    planner = Planner(build_layout(spec.layout), [make_camera(spec.camera, spec.width, spec.height)], times,
                      np.random.default_rng(0))
    door = np.array([-1.5, 2.0])
    planner.occupants.append(Occupant(np.broadcast_to(door, (100, 1, 2)).copy(), np.array([0.3]), times < 4.5))
    through = Track([0.0, 2.0], [[-2.5, 2.0], [-0.5, 2.0]], [0.0, 0.0])       # past the door at 1 m/s
    assert planner.try_accept(through, [0.0], [0.3], 0.5, keep_appear=True) is None
    got = planner.try_accept(through, [0.0], [0.3], 0.5, keep_appear=False)
    assert got is not None and got.appear_s > DELAYS[-1] and got.t[0] == got.appear_s


def lobby_planner(frames: int = 100) -> tuple[Planner, np.ndarray]:
    r = load_recipe(LOBBY, [f"output.frames_per_clip={frames}"])
    spec = sample_clip(r, 0, seed=5, clip_id="c0")
    times = np.arange(frames) / 10.0
    return Planner(build_layout(spec.layout), [make_camera(spec.camera, spec.width, spec.height)], times,
                   np.random.default_rng(0)), times


def test_waiting_on_the_way_keeps_the_path_and_shifts_what_follows():
    track = Track([1.0, 3.0, 5.0], [[0.0, 0.0], [2.0, 0.0], [2.0, 2.0]], [0.0, 0.0, 1.57], 1.0, 5.0)
    got = wait_at(track, 2.0, 1.4)
    assert got.t == [1.0, 2.0, 3.4, 4.4, 6.4] and got.xy[1] == got.xy[2] == [1.0, 0.0]
    assert got.xy[3:] == track.xy[1:] and got.yaw[1] == got.yaw[2] == 0.0          # facing the way on
    assert got.appear_s == 1.0 and got.vanish_s == 6.4


def test_someone_whose_way_is_taken_at_every_start_waits_on_the_way():
    """A person stands on a walker's line from 1 s to 5 s. Starting later (the in-view delays, up
    to 3.5 s) still meets them; stopping short of them until they go does not."""
    planner, times = lobby_planner()
    spot = np.array([-1.5, 2.0])
    planner.occupants.append(Occupant(np.broadcast_to(spot, (100, 1, 2)).copy(), np.array([0.3]),
                                      (times >= 1.0) & (times < 5.0)))
    walk = Track([0.0, 4.0], [[-3.5, 2.0], [0.5, 2.0]], [0.0, 0.0])              # 1 m/s along y = 2
    assert planner.try_accept(walk, [0.0], [0.3], 0.5, keep_appear=True) is None
    got = try_yield(planner, walk, [0.0], [0.3], 0.5)
    assert got is not None and len(planner.occupants) == 2
    xy = np.array(got.xy)
    assert np.all(xy[:, 1] == 2.0) and xy[0, 0] == -3.5 and xy[-1, 0] == 0.5       # the same way
    stops = [k for k in range(len(xy) - 1) if np.array_equal(xy[k], xy[k + 1])]
    assert stops and all(xy[k, 0] < spot[0] - 0.7 for k in stops)                  # short of them
    waited = got.t[-1] - walk.t[-1]
    assert waited > 0 and abs(waited / YIELD_STEP_S - round(waited / YIELD_STEP_S)) < 1e-9


def test_people_in_view_from_the_start_start_where_nobody_stands():
    planner, times = lobby_planner()
    spot = planner.nav.centers[planner.visible][0]
    planner.occupants.append(Occupant(np.broadcast_to(spot, (100, 1, 2)).copy(), np.array([0.3]), times < 1.0))
    free = free_at_start(planner, 0.35)
    d = np.hypot(*(planner.nav.centers - spot).transpose(2, 0, 1))
    assert not free[d < 0.75].any() and free[d > 0.75 + 0.3 * planner.nav.cell].all()


def test_fewer_people_are_dropped_in_the_small_lobby_view():
    """The lobby camera sees about 3 x 1.5 m of floor; 25 % of the people its recipe asks for found
    no plan when only later starts were tried (25 of 99 over these 30 clips), 18 % now."""
    r = load_recipe(LOBBY, ["output.clips=30"])
    dropped = asked = 0
    for i in range(30):
        spec = sample_clip(r, i, seed=700 + i, clip_id=f"c{i}")
        dropped += spec.dropped_actors
        asked += spec.dropped_actors + len(spec.people)
    assert dropped / asked <= 0.21, (dropped, asked)


def test_nobody_is_seen_behind_a_camera_looking_ahead_and_down():
    planner, _ = lobby_planner()
    cam = planner.cam if not isinstance(planner.cam, list) else planner.cam[0]
    behind = np.array([[0.0, -0.5], [0.8, -1.5], [-1.5, -0.6]])       # the whole body behind it
    ahead = np.array([[0.3, 1.8], [0.0, 1.0]])              # in view; under the view's lower edge, head in it
    _, hidden, _ = view_masks(cam, np.concatenate([behind, ahead]), 2.3, 0.45)
    assert hidden[:3].all() and not hidden[3:].any()


def test_people_come_into_the_lobby_from_under_the_camera_and_stand_at_the_tables_near_side():
    """The shipped real lobby clip's people walk in from under the camera and stand at the table's
    near side, backs to the camera (117 of 128 feet within 30 degrees of the camera's direction from
    the table). The lobby sketch's entries are at the image's bottom edge: people start out of view
    under the camera and stop on the side of the table they reach first. Before, they came from the
    left and right edges and stood around the table: 21 % of the entering visitors' stops within 60
    degrees of the camera's side, 65 % now."""
    r = load_recipe(LOBBY, ["output.clips=30", "actors.0.behavior=visit", "actors.0.enters=true"])
    planner, _ = lobby_planner()
    starts = planner.nav.centers[planner.entry]
    assert len(starts) and planner.hidden[planner.entry].all() and (starts[:, 1] < 0).all()   # behind the camera
    near = total = 0
    for i in range(30):
        spec = sample_clip(r, i, seed=500 + i, clip_id=f"c{i}")
        layout = build_layout(spec.layout)
        table = layout.obstacles.rows[0, :2]
        cam = make_camera(spec.camera, spec.width, spec.height).C[0, :2]
        for p in spec.people:
            if p.behavior != "visit" or not p.enters:
                continue
            t, xy = p.track.t, p.track.xy
            assert planner.hidden[planner.nav.cell_of(np.array(xy[0]))]            # from out of view
            stop = next(np.array(xy[k]) for k in range(len(t) - 1) if xy[k] == xy[k + 1] and t[k + 1] - t[k] >= 2.9)
            a, b = stop - table, cam - table
            total += 1
            near += abs(np.degrees(np.arctan2(a[0] * b[1] - a[1] * b[0], a @ b))) <= 60
    assert total >= 30 and near / total >= 0.5, (near, total)
