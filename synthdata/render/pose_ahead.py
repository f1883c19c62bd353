"""A moving camera's new poses rendered ahead on a thread of their own (Renderer defer: a core to spare).

A turning or shaking camera renders a background for each new pose (its rays, the ground, the
sky and the static scene: render/background.py), most of such a chunk's render on the thread
that renders it. When the renderer defers the camera's passes (a run that writes shards with a
core to spare, runner/cluster.py `helper_thread`), every other new pose of a chunk is rendered on
a pose thread while the rendering thread does the rest and then draws the moving bodies. A pose's
rays and background are a function of the pose alone (`new_pose`), so the frames are
the same bytes; the pose buffers they use are the process's (planes.pose_buffer).
"""
from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import numpy as np
import torch

from synthdata.render import pose_cache
from synthdata.render.background import Background, render_background
from synthdata.render.planes import pose_buffer
from synthdata.render.threads import side_thread
from synthdata.render.view_rays import world_rays


def render_ahead(renderer: Any, start: int, stop: int, rays: torch.Tensor) -> dict[int, Future]:
    """Start rendering every other new pose of frames [start, stop) on the pose thread, each
    writing its rays into its first frame's slot of the chunk's `rays`; returns the futures by
    pose run (Renderer._frame_view takes them). The pose kept from the last chunk is not new."""
    last = len(renderer._runs) - 1
    runs = np.asarray([renderer._runs[min(t, last)] for t in range(start, stop)])
    firsts = [i for i in range(len(runs)) if (runs[i] != runs[i - 1] if i else runs[0] != renderer._bg_run)]
    ahead = firsts[1::2]
    if not ahead:
        return {}
    renderer._reference()                # made once, on this thread, before a pose reads it
    pool = side_thread("pose")
    return {int(runs[i]): pool.submit(new_pose, renderer, start + i, rays[i]) for i in ahead}


def new_pose(renderer: Any, t: int, into: torch.Tensor | None) -> tuple[torch.Tensor, Background]:
    """Rays and background of frame t's pose for `renderer`, rendered anew (a function of the pose
    alone); into: where its rays go on the CPU (a frame's slot of the chunk's rays), else a
    planes.pose_buffer array."""
    r = renderer
    cam, geometry = r.world.camera.frame(t), None
    if r._pose_pooled:
        H, W = r.world.height, r.world.width
        out = pose_buffer((H, W, 3), np.float32) if into is None else into.numpy()
        if r._reference() is not None:    # the rays, the ground and where the colours are, in one pass
            geometry = pose_cache.pose_geometry(cam, r._reference(), out, pose_buffer)
            rays = torch.from_numpy(out)
        else:
            rays = torch.from_numpy(cam.pixel_rays(0, dtype=np.float32, out=out))
    else:
        rays = world_rays(cam, r.device)
    bg = (r.backdrop.background(cam, rays) if r.backdrop is not None
          else render_background(r.lit_world, cam, rays, r.light, r.device, r._reference(), r._pose_pooled,
                                 lazy_dark=pose_cache.READ_SHADOWS_WHERE_CAST, geometry=geometry))
    return rays, bg
