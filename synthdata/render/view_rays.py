"""A camera's rays on the device that renders with them: on a GPU made there by the CUDA kernel
`pose_rays` (render/gpu.py) on the per-point steps of world/geometry/camera_kernels.py, which
Camera.pixel_rays runs on the CPU, so a moving camera's poses never cross from the host.
"""
from __future__ import annotations

import numpy as np
import torch

from synthdata.render.backend import kernels_for
from synthdata.world.geometry.camera import Camera, fold_sq


def world_rays(camera: Camera, device: torch.device, keep: bool = True) -> torch.Tensor:
    """`camera`'s unit rays at frame 0 (H, W, 3) float32 on `device`: with the CUDA kernels made
    there by `pose_rays` on Camera.pixel_rays' steps, otherwise by Camera.pixel_rays and sent
    (keep: as pixel_rays). Where a Brown lens's steps do not settle at some pixel (an image that
    reaches the distortion's fold) or for a fisheye, Camera.pixel_rays solves them: whether they
    settle is asked of the GPU once for each lens and image (`_SETTLES`)."""
    k = kernels_for(device)
    key = camera.ray_key(0)
    if hasattr(k, "pose_rays") and camera.model != "fisheye" and _SETTLES.get(key, True):
        out = torch.empty((camera.height, camera.width, 3), dtype=torch.float32, device=device)
        unsettled = torch.zeros(1, dtype=torch.int32, device=device)
        k.pose_rays(float(camera.cx), float(camera.cy), float(camera.fx[0]), float(camera.fy[0]),
                    0.0 if camera.skew is None else float(camera.skew[0]), float(camera.k1), float(camera.k2),
                    fold_sq(float(camera.k1), float(camera.k2)), np.ascontiguousarray(camera.R[0], np.float64),
                    k.array(out), k.array(unsettled))
        if key not in _SETTLES:
            if len(_SETTLES) >= 64:
                _SETTLES.pop(next(iter(_SETTLES)))
            _SETTLES[key] = not int(unsettled.cpu()[0])
        if _SETTLES[key]:
            return out
    return torch.as_tensor(camera.pixel_rays(0, dtype=np.float32, keep=keep), device=device)


_SETTLES: dict[tuple, bool] = {}    # a lens and image (Camera.ray_key): every pixel's steps settle
