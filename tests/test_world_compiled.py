"""Compiled geometry of the world (navigation rings, point in polygon, footprint distance,
ShapeBuilder stacking): the same values as the plain numpy formulations they replaced."""
from __future__ import annotations

import numpy as np
import pytest

from synthdata.world.geometry.shapes import Footprints, ShapeBuilder, points_in_polygon
from synthdata.world.planning.navigation import NavGrid

_NEIGHBOURS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


def polygon_reference(points: np.ndarray, poly: np.ndarray) -> np.ndarray:
    p = np.asarray(points, float)
    x, y = p[..., 0][..., None], p[..., 1][..., None]
    a = np.asarray(poly, float)
    b = np.roll(a, -1, axis=0)
    cond = (a[:, 1] > y) != (b[:, 1] > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        xi = a[:, 0] + (y - a[:, 1]) * (b[:, 0] - a[:, 0]) / (b[:, 1] - a[:, 1])
    return np.count_nonzero(cond & (x < xi), axis=-1) % 2 == 1


def rings_reference(free: np.ndarray, goal, start=None) -> np.ndarray:
    """Breadth-first rings as whole-array wavefronts (the former numpy implementation)."""
    ny, nx = free.shape
    dist = np.full((ny, nx), np.inf)
    if not free[goal]:
        return dist
    dist[goal] = 0
    frontier = np.zeros_like(free)
    frontier[goal] = True
    visited = frontier.copy()
    k = 0
    while frontier.any():
        k += 1
        pad = np.pad(frontier, 1)
        grown = np.zeros_like(frontier)
        for di, dj in _NEIGHBOURS:
            grown |= pad[1 + di:1 + di + ny, 1 + dj:1 + dj + nx]
        grown &= free & ~visited
        dist[grown] = k
        visited |= grown
        frontier = grown
        if start is not None and visited[start]:
            break
    return dist


def test_point_in_polygon_matches_the_even_odd_reference_on_edges_and_vertices():
    rng = np.random.default_rng(3)
    for k in range(200):
        poly = rng.normal(size=(int(rng.integers(3, 12)), 2)) * 5
        pts = rng.normal(size=(150, 2)) * 5
        if k % 2:      # integer vertices and half-integer points: many exactly on edge lines and vertices
            poly, pts = np.round(poly), np.round(pts * 2) / 2
        assert np.array_equal(points_in_polygon(pts, poly), polygon_reference(pts, poly))
    square = np.array([[0, 0], [2, 0], [2, 2], [0, 2]], float)
    grid = np.stack(np.meshgrid(np.linspace(-1, 3, 9), np.linspace(-1, 3, 7)), -1)     # (7, 9, 2) keeps its shape
    assert points_in_polygon(grid, square).shape == (7, 9)
    assert np.array_equal(points_in_polygon(grid, square), polygon_reference(grid, square))


def test_footprint_distance_is_the_nearest_of_all_distances_bit_for_bit():
    rng = np.random.default_rng(5)
    rows = np.column_stack([rng.normal(size=(25, 2)) * 5, rng.uniform(0, 2, (25, 2)), rng.uniform(-3, 3, 25),
                            rng.uniform(0, 0.5, 25)])
    fp = Footprints(rows)
    pts = rng.normal(size=(4000, 2)) * 6
    assert np.array_equal(fp.distance(pts), fp.distances(pts).min(axis=1))
    more = fp + Footprints(Footprints.disc(1.0, 1.0, 0.7))       # new rows: the cached trig is redone
    assert np.array_equal(more.distance(pts), more.distances(pts).min(axis=1))
    assert np.all(np.isinf(Footprints().distance(pts)))


@pytest.mark.parametrize("seed", range(6))
def test_route_rings_match_the_wavefront_reference(seed):
    rng = np.random.default_rng(seed)
    free = rng.random((23, 31)) > (0.15 + 0.05 * seed)
    nav = NavGrid((0.0, 0.0, 15.5, 11.5), [np.array([[0, 0], [15.5, 0], [15.5, 11.5], [0, 11.5]], float)],
                  Footprints(), 0.1, cell=0.5)
    nav.free = free
    cells = np.argwhere(free)
    for _ in range(5):
        goal = tuple(int(v) for v in cells[rng.integers(len(cells))])
        start = tuple(int(v) for v in cells[rng.integers(len(cells))])
        assert np.array_equal(nav.distance_field(goal), rings_reference(free, goal))
        assert np.array_equal(nav.distance_field(goal, start), rings_reference(free, goal, start))
    blocked = tuple(int(v) for v in np.argwhere(~free)[0])
    assert np.all(np.isinf(nav.distance_field(blocked)))


def test_shape_builder_broadcasts_static_primitives_and_rejects_wrong_shapes():
    T = 5
    b = ShapeBuilder(T)
    moving = np.cumsum(np.ones((T, 3)), 0)
    b.box([0.0, 0.0, 1.0], [0.5, 0.5, 1.0], (0.2, 0.2, 0.2))
    b.capsule(moving, moving + 1.0, 0.2, (0.5, 0.5, 0.5))
    s = b.build()
    assert s.center.shape == (T, 2, 3) and s.axes.shape == (T, 2, 3, 3)
    assert np.array_equal(s.center[:, 0], np.broadcast_to([0.0, 0.0, 1.0], (T, 3)))
    assert np.array_equal(s.center[:, 1], moving) and np.array_equal(s.end[:, 1], moving + 1.0)
    assert np.array_equal(s.size[:, 1], np.full((T, 3), 0.2)) and np.array_equal(s.axes[:, 0], np.broadcast_to(np.eye(3), (T, 3, 3)))
    bad = ShapeBuilder(T)
    bad.box(np.zeros((T + 1, 3)), [0.5, 0.5, 1.0], (0.2, 0.2, 0.2))
    with pytest.raises(ValueError, match="primitive 0"):
        bad.build()
