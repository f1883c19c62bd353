"""People's navigation grid: routes keep the clearance they are asked for, a wide mover (a pair
side by side, a pram, a trolley) as much as a single walker, around an obstacle and in a small
real camera view; a plate's grid is as fine as the floor the camera sees."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from synthdata.recipe.loader import load_recipe
from synthdata.world.geometry.shapes import Footprints
from synthdata.world.layouts.plate import nav_cell
from synthdata.world.planning.navigation import NavGrid
from synthdata.world.planning.planner import NAV_CLEARANCE
from synthdata.world.sample import sample_clip

LOBBY = Path(__file__).resolve().parents[1] / "recipes" / "plate_lobby.yaml"


def hall() -> NavGrid:
    """A 10 x 4 m floor with a 1 x 0.6 m table in the middle, on a 0.25 m grid."""
    floor = np.array([[0, 0], [10, 0], [10, 4], [0, 4]], float)
    table = Footprints(Footprints.segment((4.5, 2.0), (5.5, 2.0), 0.3))
    return NavGrid((0.0, 0.0, 10.0, 4.0), [floor], table, NAV_CLEARANCE, cell=0.25)


def keeps(nav: NavGrid, path: np.ndarray, clearance: float) -> bool:
    return all(nav.segment_ok(a, b, clearance, step=0.02) for a, b in zip(path[:-1], path[1:]))


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
    xs = [p.track.xy[0][0] for i in range(r.output.clips)
          for p in sample_clip(r, i, seed=700 + i, clip_id=f"c{i}").people]
    table_x = 0.32                                   # the table's foot (examples/plates/lobby/sketch.png)
    assert sum(x < table_x for x in xs) >= 10 and sum(x > table_x for x in xs) >= 10
