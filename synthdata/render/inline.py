"""`inlined`: numba's `register_jitable(inline="always")`, for the CPU kernels only.

numba inlines such a function's IR into its caller, which the CPU kernels rely on for speed (the
per-pixel helpers take many arrays; a call costs reference counting per array). numba-cuda (0.30)
compiles device code with its own copy of numba's IR and cannot take IR inlined by numba's core:
it mistypes the arguments (`omitted(default=Undefined)`) or trips an assertion, which numba's CUDA
simulator never shows. So CUDA device code calls these functions plainly (NVVM inlines them at -O3
anyway): the `cuda` overloads are registered by render/gpu.py before it compiles, since numba-cuda
is optional. `check_numpy` says in one line when numba-cuda cannot load with the installed numpy.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import config
from numba.core.extending import overload
from numba.core.target_extension import current_target

from synthdata.errors import SynthdataError

_INLINED: list[Callable] = []
_PER_TARGET: list[tuple[Callable, Callable]] = []
_on_cuda = False


def _implementation(fn: Callable, target: str) -> Callable:
    def typer(*args: Any, **kwargs: Any) -> Callable | None:
        # numba-cuda also tries the CPU overload; once CPU kernels were compiled in this process
        # it inlined their CPU-typed IR into device code (arguments typed `omitted`): each
        # overload answers only while its own target compiles
        return fn if current_target() == target else None
    return typer


def inlined(fn: Callable) -> Callable:
    """Compile `fn` into numba CPU code inlined at each call (and, once `register_for_cuda` ran,
    into CUDA device code as a plain call)."""
    overload(fn, inline="always", strict=False, target="cpu")(_implementation(fn, "cpu"))
    _INLINED.append(fn)
    return fn


def per_target(cuda: Callable) -> Callable[[Callable], Callable]:
    """Decorator: the function compiles as itself into numba CPU code and as `cuda` into CUDA
    device code (once `register_for_cuda` ran); plain Python (numba's CUDA simulator) runs it as
    written. For maths whose fastest CPU form numba-cuda cannot compile (numpy ufuncs)."""
    def wrap(fn: Callable) -> Callable:
        overload(fn, strict=False, target="cpu")(_implementation(fn, "cpu"))
        _PER_TARGET.append((fn, cuda))
        return fn
    return wrap


def register_for_cuda() -> None:
    """Make every `inlined` and `per_target` function callable from CUDA kernels (idempotent)."""
    global _on_cuda
    if not _on_cuda:
        for fn in _INLINED:
            overload(fn, strict=False, target="cuda")(_implementation(fn, "cuda"))
        for fn, cuda in _PER_TARGET:
            overload(fn, strict=False, target="cuda")(_implementation(cuda, "cuda"))
        _on_cuda = True


def check_numpy() -> None:
    """numba-cuda loads its numpy overloads at the first compile; 0.30 registers `np.row_stack`,
    which numpy 2.5 removed, and fails deep in the first launch. Say so in one line up front."""
    if getattr(config, "ENABLE_CUDASIM", 0):
        return
    try:
        import numba.cuda.cudaimpl  # noqa: F401 - what the first compile imports
    except AttributeError as e:
        from importlib.metadata import PackageNotFoundError, version
        try:
            which = f"numba-cuda {version('numba-cuda')}"
        except PackageNotFoundError:     # pragma: no cover - an install without metadata
            which = "numba-cuda"
        raise SynthdataError(f"{which} cannot run with numpy {np.__version__} ({e}); install numpy < 2.5 "
                             f'(pip install "numpy<2.5") or a numba-cuda that supports it') from None
