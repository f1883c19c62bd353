"""The planner's view masks (world/planning/navigation.py `view_masks`, one compiled pass) agree with
the same question asked of Camera.project for every corner (`image_extent` of `box_corners`)."""
from __future__ import annotations

import numpy as np
import pytest

from synthdata.world.geometry.camera import Camera
from synthdata.world.planning.navigation import box_corners, image_extent, view_masks


def masks_by_projection(cam: Camera, centers: np.ndarray, height: float, radius: float):
    flat = centers.reshape(-1, 2)
    inside, outside = image_extent(cam, box_corners(flat, 0.0, 2 * radius, 2 * radius, height))
    ends = np.stack([np.c_[flat, np.zeros(len(flat))], np.c_[flat, np.full(len(flat), height)]], 1)
    uv, _ = cam.project(ends, 0)
    tall = np.nan_to_num(np.hypot(*(uv[:, 0] - uv[:, 1]).T))
    return inside, outside, tall


@pytest.mark.parametrize("lens", [dict(), dict(k1=-0.2, k2=0.03), dict(model="fisheye", k1=0.05, hfov_deg=150)])
def test_view_masks_match_the_projection_of_every_corner(lens):
    opts = dict(hfov_deg=70) | lens
    cam = Camera.from_pose(320, 240, position=(2.0, -6.0, 5.0), pan_deg=20, tilt_deg=25, **opts)
    g = np.stack(np.meshgrid(np.arange(-40, 40, 0.37), np.arange(-30, 60, 0.41)), -1)   # around and behind it
    for height, radius in ((2.3, 0.45), (1.2, 0.3)):
        inside, outside, tall = view_masks(cam, g, height, radius)
        want = masks_by_projection(cam, g, height, radius)
        assert inside.shape == g.shape[:-1]
        assert np.array_equal(inside.ravel(), want[0]) and np.array_equal(outside.ravel(), want[1])
        np.testing.assert_allclose(tall.ravel(), want[2], rtol=1e-9, atol=1e-9)
        assert inside.any() and outside.any() and not (inside & outside).any()
        assert (tall == 0).any() and tall.max() > 20          # cells behind the camera have no height
