"""Zones placed from the recipe against a layout: fixed points, region-relative rectangles and
tripwires, lane directions, and a clear error for a region the layout lacks."""
from __future__ import annotations

import math

import numpy as np
import pytest

from synthdata.errors import BadInput
from synthdata.recipe.security import ZoneSpec
from synthdata.world.geometry.shapes import Footprints, rect_polygon
from synthdata.world.layouts.base import Lane, Layout
from synthdata.world.security.zones import build_zones, sample_zones, zone_paint
from synthdata.world.types import Ground, Shapes


def layout() -> Layout:
    return Layout("street", (-20.0, 0.0, 20.0, 30.0), Shapes.empty(), Ground(), Footprints(),
                  [rect_polygon(-20, 0, 20, 30)],
                  lanes=[Lane(np.array([[-80.0, 12.0], [80.0, 12.0]]), 3.3, "eastbound0"),
                         Lane(np.array([[80.0, 15.0], [-80.0, 15.0]]), 3.3, "westbound0")],
                  regions={"plaza": rect_polygon(-20, 0, 20, 10),
                           "lane_eastbound0": rect_polygon(-20, 10.35, 20, 13.65),
                           "lane_westbound0": rect_polygon(-20, 13.35, 20, 16.65)})


def resolve(*specs: dict, seed: int = 0) -> list:
    return sample_zones([ZoneSpec(**s) for s in specs], layout(), np.random.default_rng(seed))


def test_fixed_points_are_kept_in_world_metres():
    (z,) = resolve({"name": "gate", "kind": "tripwire", "points": [[-3, 20], [4, 21]], "crossing": "a_to_b"})
    assert z.points == [[-3.0, 20.0], [4.0, 21.0]] and z.crossing == "a_to_b" and z.kind == "tripwire"


def test_rectangle_relative_to_a_region():
    (z,) = resolve({"name": "pen", "region": "plaza", "at": [0.25, 0.5], "size_m": [4, 2], "yaw_deg": 90})
    pts = np.array(z.points)
    # centre at x = -20 + 0.25 * 40 = -10, y = 5; rotated 90 deg: 2 m across x, 4 m along y
    assert np.allclose(pts.mean(0), [-10, 5])
    assert np.allclose(np.ptp(pts, axis=0), [2, 4])
    (whole,) = resolve({"name": "all", "region": "plaza"})
    assert np.allclose(whole.points, rect_polygon(-20, 0, 20, 10))
    assert whole.role == "restricted"


def test_tripwire_spans_the_region_unless_a_length_is_given():
    (z,) = resolve({"name": "w", "kind": "tripwire", "at": [0.5, 1.0]})
    assert np.allclose(z.points, [[-20, 30], [20, 30]])
    (z,) = resolve({"name": "w", "kind": "tripwire", "at": [0.5, 0.5], "length_m": 6, "yaw_deg": 90})
    assert np.allclose(z.points, [[0, 12], [0, 18]])


def test_lane_direction_from_the_layout_lane_or_the_recipe():
    east, west, fixed = resolve({"name": "e", "role": "lane", "region": "lane_eastbound0"},
                                {"name": "w", "role": "lane", "region": "lane_westbound0"},
                                {"name": "f", "role": "lane", "region": "plaza", "direction_deg": 90})
    assert np.allclose(east.direction, [1, 0]) and np.allclose(west.direction, [-1, 0])
    assert np.allclose(fixed.direction, [0, 1])
    zones = build_zones([east])
    assert zones[0].attributes["role"] == "lane" and zones[0].points.shape == (4, 2)


def test_sampled_placement_varies_per_clip_and_repeats_per_seed():
    spec = {"name": "z", "region": "plaza", "at": [{"uniform": [0.1, 0.9]}, 0.5], "size_m": [2, 2]}
    a, b = resolve(spec, seed=1)[0], resolve(spec, seed=2)[0]
    assert a.points != b.points and resolve(spec, seed=1)[0] == a


def test_unknown_region_is_one_clear_error():
    with pytest.raises(BadInput, match=r"zones\[0\].region: the street layout has no region 'lobby'; it has "):
        resolve({"name": "z", "region": "lobby"})


def test_painted_zones_become_ground_outlines():
    zones = build_zones(resolve({"name": "red", "role": "no_parking", "region": "plaza", "painted": True},
                                {"name": "quiet", "region": "plaza"}))
    (paint,) = zone_paint(zones)
    assert paint.kind == "line" and len(paint.points) == 5          # closed outline
    assert math.isclose(paint.points[0, 0], paint.points[-1, 0])
