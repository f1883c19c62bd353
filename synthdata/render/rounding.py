"""`floor` and `ceil` for the compiled per-pixel maths (CPU and CUDA kernels alike).

numba compiles `math.floor` and `math.ceil` of a float on the CPU into a call to libm's floor /
ceil (they return an int), which the CPU cannot overlap or vectorise: three value-noise lookups
of a ground pixel took 10.7 ms for a 640x480 pose, against 3.5 ms with `np.floor`, which compiles
to one instruction. numba-cuda has no numpy ufuncs, so CUDA device code keeps math's (a device
instruction there). Both return the same value as a float64 (wrap in `int` where an index is
wanted), so every result that used math's stays the same bits.
"""
from __future__ import annotations

import math

import numpy as np

from synthdata.render.inline import per_target


def _floor_cuda(x):
    return float(math.floor(x))


def _ceil_cuda(x):
    return float(math.ceil(x))


@per_target(_floor_cuda)
def floor(x):
    """math.floor(x) as a float64."""
    return np.floor(np.float64(x))


@per_target(_ceil_cuda)
def ceil(x):
    """math.ceil(x) as a float64."""
    return np.ceil(np.float64(x))
