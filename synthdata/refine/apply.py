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
it is float32 throughout. On that bfloat16 path the steps around the network (the frame to
[0, 1] in bfloat16 before it; tanh, the bounded sum, clamping and rounding to 8 bits after it) run
as two compiled passes over each frame, reading tables made by torch's own operations: the same
bytes as the torch expressions (`_bfloat16_io`), in one pass each instead of about a dozen.

On the CPU the residual runs through refine/fused.py (oneDNN convolutions with their leaky ReLU
or sum as a post-op, and on the bfloat16 path one compiled pass for each "upsample, add, leaky
ReLU"): in float32 the module's bits, in bfloat16 rounded once where the module rounds twice.
"""
from __future__ import annotations

import copy
import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from numba import njit

from synthdata.refine.checkpoint import load_checkpoint
from synthdata.refine.fused import MIN_SIDE, FusedResidual, available
from synthdata.refine.model import Generator


@dataclass
class Refiner:
    """A checkpoint's generator on one device; `low`: its bfloat16 copy for the residual, or None
    (float32 throughout); `fused`: the residual of `low` (else the generator) in fused steps on
    the CPU, or None (the module's own)."""

    path: str
    sha256: str
    generator: Generator
    device: torch.device
    low: Generator | None = None
    fused: FusedResidual | None = None

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """The residual of x (N, 3, H, W) in [0, 1], in `low`'s precision when there is one."""
        if self.low is not None:
            x = x.to(torch.bfloat16)
        if self.fused is not None and x.device.type == "cpu":
            return self.fused(x)
        return (self.low or self.generator).residual(x)


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
    net = low or gen
    quick = FusedResidual(net) if dev.type == "cpu" and available(next(net.parameters()).dtype) else None
    return Refiner(path, ck.sha256, gen, dev, low, quick)


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


def refine_frames(rgb: torch.Tensor, refiner: Refiner, strength: float = 1.0, pair: bool = False) -> torch.Tensor:
    """Refined copy of `rgb` (T, H, W, 3) uint8 on its device: `rgb + strength * (G(rgb) - rgb)`,
    rounded; `rgb` itself when strength is 0. pair: on the CPU, every other frame is refined on a
    second thread (the calling thread's side thread "refine") while this thread refines the others:
    for a caller with a core to spare. Frames are refined one at a time either way, each the same
    bytes."""
    if strength <= 0.0 or rgb.shape[0] == 0:
        return rgb
    if rgb.device != refiner.device:
        refiner.generator.to(rgb.device)
        refiner.device = rgb.device
    T = rgb.shape[0]
    out = torch.empty_like(rgb)
    if not (pair and T > 1 and rgb.device.type == "cpu"):
        _refine_into(rgb, refiner, strength, out, range(T))
        return out
    from synthdata.render.threads import side_thread

    threads = torch.get_num_threads()

    def odd() -> None:
        torch.set_num_threads(threads)      # per thread for oneDNN's convolutions
        _refine_into(rgb, refiner, strength, out, range(1, T, 2))

    other = side_thread("refine").submit(odd)
    try:
        _refine_into(rgb, refiner, strength, out, range(0, T, 2))
    finally:
        other.result()
    return out


def _refine_into(rgb: torch.Tensor, refiner: Refiner, strength: float, out: torch.Tensor, frames: range) -> None:
    """refine_frames of the frames `frames` of rgb into the same frames of out."""
    if refiner.low is not None and strength >= 1.0 and rgb.device.type == "cpu":
        _refine_bfloat16(rgb, refiner, out, frames)
        return
    gen = refiner.generator
    with torch.inference_mode():
        for i in frames:
            x = rgb[i].permute(2, 0, 1)[None].float() / 255.0
            y = gen.bounded(x, refiner.residual(x))
            if strength < 1.0:
                y = x + strength * (y - x)
            out[i] = (y[0] * 255.0).round_().clamp_(0, 255).to(torch.uint8).permute(1, 2, 0)


def _refine_bfloat16(rgb: torch.Tensor, refiner: Refiner, out: torch.Tensor, frames: range) -> None:
    """refine_frames at strength 1 with a bfloat16 residual on the CPU: each frame goes to the
    network's bfloat16 input and from its residual to 8 bits in one compiled pass each."""
    _T, H, W, _ = rgb.shape
    levels, inputs, centred, deltas = _bfloat16_io(float(refiner.generator.config.max_delta))
    quick = refiner.fused if min(H, W) >= MIN_SIDE else None
    x16 = np.empty(H * W * 3, np.int16)
    ph, pw = (-H) % 4, (-W) % 4
    with torch.inference_mode():
        for i in frames:
            src = rgb[i].contiguous().numpy().reshape(-1)
            _to_input(src, inputs if quick is None else centred, x16)
            x = torch.from_numpy(x16).view(torch.bfloat16).reshape(1, H, W, 3).permute(0, 3, 1, 2)
            if quick is None:
                r = refiner.low.residual(x)
            else:           # x is already 2x - 1, the network's first step
                r = quick.of_input(F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x)[..., :H, :W]
            r = r.permute(0, 2, 3, 1).contiguous().view(torch.int16)
            _to_frame(src, r.numpy().reshape(-1), levels, deltas, out[i].numpy().reshape(-1))


@functools.lru_cache(maxsize=4)
def _bfloat16_io(max_delta: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Tables made with the torch operations of the float path, so the compiled passes give its
    bytes: each 8-bit level's float32 value (`rgb.float() / 255`), the same as bfloat16 bits (the
    network's input), those times 2 minus 1 in bfloat16 (its first step), and `max_delta * tanh(r)`
    in float32 for every bfloat16 r (by its bits + 32768)."""
    level = torch.arange(256, dtype=torch.uint8).float() / 255.0
    low = level.to(torch.bfloat16)
    bits = torch.arange(-32768, 32768, dtype=torch.int32).to(torch.int16)
    delta = max_delta * torch.tanh(bits.view(torch.bfloat16).float())
    return (level.numpy(), low.view(torch.int16).numpy(), (low * 2 - 1).view(torch.int16).numpy(),
            delta.numpy())


@njit(cache=True, nogil=True)
def _to_input(rgb, inputs, out):
    """out (int16 bits of bfloat16) = each 8-bit value's network input."""
    for k in range(rgb.shape[0]):
        out[k] = inputs[rgb[k]]


@njit(cache=True, nogil=True)
def _to_frame(rgb, residual, levels, deltas, out):
    """out = round(255 * clamp(rgb / 255 + max_delta * tanh(residual), 0, 1)), residual as
    bfloat16 bits, in float32 as Generator.bounded and refine_frames do it (NaN gives 0)."""
    zero, one, top = np.float32(0.0), np.float32(1.0), np.float32(255.0)
    for k in range(rgb.shape[0]):
        y = levels[rgb[k]] + deltas[np.int32(residual[k]) + 32768]
        y = min(y, one) if y > zero else zero
        out[k] = np.uint8(np.rint(y * top))
