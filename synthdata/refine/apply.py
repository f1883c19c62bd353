"""Applying a refiner to rendered frames on the render device (the per-chunk step of the
pipeline, before encoding; labels never see it).

`refine_frames(rgb, refiner, strength)` takes and returns (T, H, W, 3) uint8 tensors; frames are
refined one at a time, so the result does not depend on the chunk size. Strength blends the
refined frame with the rendered one: 0 returns the input tensor itself (bit for bit), 1 the
generator's output.

Precision: on a CPU with native bfloat16 arithmetic (AVX512-BF16 or AMX), precision "auto" runs
the generator's residual in bfloat16 (a copy of its weights) and the bounded sum
`x + max_delta * tanh(r)` in float32: about 1.7x faster there. The shipped refiner's values then
round one 8-bit level apart from float32's in 1-2 % of values (none further); a strong one (random
weights) in about 10 %, a few in a million by two. Everywhere else, and with precision "float32",
it is float32 throughout.
"""
from __future__ import annotations

import copy
import functools
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from synthdata.refine.checkpoint import load_checkpoint
from synthdata.refine.model import Generator


@dataclass
class Refiner:
    """A checkpoint's generator on one device; `low`: its bfloat16 copy for the residual, or None
    (float32 throughout)."""

    path: str
    sha256: str
    generator: Generator
    device: torch.device
    low: Generator | None = None


def load_refiner(path: str | os.PathLike, device: str | torch.device = "cpu", precision: str = "auto") -> Refiner:
    """The refiner in `path` on `device` (cached per file version, device and precision: "auto" or
    "float32", the recipe's postprocess.precision); RefinerError (exit 2, one line) for a missing,
    corrupt or foreign checkpoint."""
    p = Path(path).resolve()
    st = p.stat() if p.is_file() else None
    stamp = (st.st_mtime_ns, st.st_size) if st else (0, 0)
    return _load(str(p), str(torch.device(device)), precision, stamp)


@functools.lru_cache(maxsize=4)
def _load(path: str, device: str, precision: str, _stamp: tuple[int, int]) -> Refiner:
    ck = load_checkpoint(path)
    dev = torch.device(device)
    # channels-last weights: frames arrive as (H, W, 3), already channels-last once permuted,
    # and oneDNN's convolutions run about 30 % faster on the CPU in that layout
    gen = ck.generator.to(dev, memory_format=torch.channels_last)
    low = None
    if precision == "auto" and dev.type == "cpu" and native_bfloat16():
        low = copy.deepcopy(gen).to(torch.bfloat16)
    return Refiner(path, ck.sha256, gen, dev, low)


@functools.lru_cache(maxsize=1)
def native_bfloat16() -> bool:
    """Whether this CPU has bfloat16 arithmetic in hardware (the avx512_bf16 or amx_bf16 flag of
    Linux's /proc/cpuinfo); without it bfloat16 convolutions are emulated and slower than float32."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def refine_frames(rgb: torch.Tensor, refiner: Refiner, strength: float = 1.0) -> torch.Tensor:
    """Refined copy of `rgb` (T, H, W, 3) uint8 on its device: `rgb + strength * (G(rgb) - rgb)`,
    rounded; `rgb` itself when strength is 0."""
    if strength <= 0.0 or rgb.shape[0] == 0:
        return rgb
    if rgb.device != refiner.device:
        refiner.generator.to(rgb.device)
        refiner.device = rgb.device
    gen = refiner.generator
    out = torch.empty_like(rgb)
    with torch.inference_mode():
        for i in range(rgb.shape[0]):
            x = rgb[i].permute(2, 0, 1)[None].float() / 255.0
            y = gen(x) if refiner.low is None else gen.bounded(x, refiner.low.residual(x.to(torch.bfloat16)))
            if strength < 1.0:
                y = x + strength * (y - x)
            out[i] = (y[0] * 255.0).round_().clamp_(0, 255).to(torch.uint8).permute(1, 2, 0)
    return out
