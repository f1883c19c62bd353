"""Which compiled kernels render on a device, and how tensors reach them.

`kernels_for(device)` returns an object with the kernel functions of render/kernels.py (CPU,
numba njit) or their CUDA launchers (render/gpu.py, numba-cuda; also on the CPU under numba's CUDA simulator), all with the same
arguments,
plus `array(tensor)`: the tensor as an array those kernels take without a copy (a numpy view on
the CPU, a CUDA array view on a GPU).

CPU kernels compile once per machine and then load from numba's on-disk cache; the first time,
`announce_compile` tells the user (compiling takes seconds, and silence would look like a hang).
CUDA kernels compile in every process that renders on a GPU, which says so once too.
"""
from __future__ import annotations

import sys
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

KERNELS = ("raster", "shade_hits", "shade_surfaces", "shade_tone", "surfaces", "light_pools", "sun_shadows", "antialias", "decode_linear", "sensor_encode",
           "motion_blur", "part_index")
# Kernels only some scenes call, compiled when first needed (a few seconds) and not counted by
# the first-run message, which would otherwise show in every process of a user who never needs
# them: vehicle light pools (dusk, night); the one-pass background shading (every background but
# plates and wet ground) and the two-pass surface shading (only those); likewise the host passes
# of render/background_pass.py and render/plate_look.py; each pixel's part index (dense ground
# truth only); the static scene's surface points (scenes with static shapes: not plates, which
# otherwise announced a compile in every process although nothing compiled).
ON_DEMAND = ("light_pools", "shade_tone", "shade_surfaces", "part_index", "surfaces")
_cpu: Any = None
_announced = False


def _numpy(t: Any) -> Any:
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t


def kernels_for(device: torch.device | str) -> Any:
    """The kernels for `device` (a torch device: cpu or cuda)."""
    global _cpu
    if torch.device(device).type == "cuda" or _simulating():
        from synthdata.render.gpu import cuda_kernels
        return cuda_kernels()
    if _cpu is None:
        from synthdata.render import kernels
        announce_compile(kernels)
        _cpu = SimpleNamespace(array=_numpy, **{k: getattr(kernels, k) for k in KERNELS})
    return _cpu


def _simulating() -> bool:
    """numba's CUDA simulator is on (NUMBA_ENABLE_CUDASIM=1): the CUDA kernels and their driver
    run on the CPU with numpy arrays (slowly), which is how the CUDA path is executed in CI."""
    from numba import config
    return bool(getattr(config, "ENABLE_CUDASIM", 0))


def compiled(kernel: Any) -> Any:
    """The numba dispatcher behind a kernel: itself, or for a host wrapper that hands a compiled
    kernel its kept scratch (motion_blur, light_pools), the one named by its `kernel` attribute."""
    return getattr(kernel, "kernel", kernel)


def cached(dispatcher: Any) -> bool:
    """Whether numba's on-disk cache holds compiled code for this kernel."""
    try:
        return bool(compiled(dispatcher)._cache._cache_file._load_index())
    except Exception:   # a numba without this internal: assume compiled (no message)
        return True


def announce_compile(module: Any) -> None:
    """Print one line on stderr when the kernels are not in numba's cache yet (first run)."""
    global _announced
    if _announced:
        return
    _announced = True
    from synthdata.render import shadow_windows
    from synthdata.world.geometry import camera_rows
    from synthdata.world.planning import navigation
    host = [shadow_windows._windows, shadow_windows._bound, shadow_windows._near_clipped,   # host-side, every device
            camera_rows.bounds_kernel, navigation._view_masks, navigation._points_clear, navigation._segment_clear]
    wanted = [getattr(module, k) for k in KERNELS if k not in ON_DEMAND] + host
    missing = [d for d in wanted if not cached(d)]
    if missing:
        print(f"synthdata: compiling render kernels for this machine ({len(missing)} of "
              f"{len(wanted)}; first run only, one to three minutes of a core; later runs load them "
              "from numba's cache) ...", file=sys.stderr, flush=True)


def announced() -> None:
    """The first-run line is said already (synthdata/precompile.py `warm_up` says its own)."""
    global _announced
    _announced = True


def antialias(rgb: torch.Tensor, inst: torch.Tensor, boxes: torch.Tensor) -> None:
    """Soften object silhouettes: pixels on an instance boundary (differing from a 4-neighbour)
    take the mean of themselves and their 3x3 average. Only colours change; the instance buffer
    (and so every label) keeps hard edges. boxes (G, 5) are (frame, y0, x0, y1, x1) around each
    object's pixels (boundaries lie within one pixel of them; only there is searched)."""
    k = kernels_for(rgb.device)
    T, H, W = inst.shape
    k.antialias(k.array(rgb), k.array(inst), np.ascontiguousarray(boxes.cpu().numpy(), np.int64),
                np.zeros((T, H, W), np.uint8))
