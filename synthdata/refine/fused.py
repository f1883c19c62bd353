"""The generator's residual for inference on the CPU, in fewer passes over memory
(refine/apply.py): each convolution followed by a leaky ReLU, or by a residual block's sum, is one
oneDNN convolution with that step as a post-op (`torch.ops.mkldnn._convolution_pointwise`, the
fusion PyTorch's own compiler uses); on the bfloat16 path "upsample, add the skip features, leaky
ReLU" is one compiled pass (`_up_add_leaky`).

The maths is Generator.residual's (refine/model.py stays the definition, and training uses it).
In float32 the post-ops give the same bits as the separate operations, and the upsampling steps
stay torch's, so the float32 residual is bit for bit the module's. In bfloat16 a fused step
rounds once where the module rounds after the convolution and again after the leaky ReLU or sum,
and the upsampling weights are applied in another order: an 8-bit refined value moves by a level
now and then (tests/test_refine_precision.py bounds it).
"""
from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from synthdata.refine.model import Generator

SLOPE = 0.2     # the generator's leaky ReLU slope (refine/model.py)
MIN_SIDE = 16   # smaller frames go through the module: torch convolves a few pixels with other code


@functools.lru_cache(maxsize=2)
def available(dtype: torch.dtype = torch.float32) -> bool:
    """Whether this torch has oneDNN's fused convolutions (PyTorch's CPU wheels do) for `dtype` on
    this CPU (oneDNN's bfloat16 needs AVX-512 or AVX-NE-CONVERT; without, the module's own
    convolutions emulate it)."""
    try:
        ok = bool(torch.backends.mkldnn.is_available()) and hasattr(torch.ops.mkldnn, "_convolution_pointwise")
        return ok and (dtype != torch.bfloat16 or bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()))
    except (AttributeError, RuntimeError):
        return False


class FusedResidual:
    """r(h) of a generator on the CPU in its dtype (float32 or bfloat16), h = 2x - 1 (N, 3, H, W)
    channels-last with H and W multiples of 4 (`__call__` pads others as the module does)."""

    def __init__(self, gen: Generator):
        self.gen = gen
        self.low = next(gen.parameters()).dtype == torch.bfloat16
        c = gen.body[0].a.in_channels if len(gen.body) else gen.down2.out_channels
        wgt = gen.up1.weight.detach()
        self.up_deep, self.up_skip = wgt[:, :c].contiguous(), wgt[:, c:].contiguous()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The residual of x in [0, 1] (N, 3, H, W) in the generator's dtype; Generator.residual."""
        H, W = x.shape[-2:]
        if min(H, W) < MIN_SIDE:
            return self.gen.residual(x)
        ph, pw = (-H) % 4, (-W) % 4
        h = F.pad(x * 2 - 1, (0, pw, 0, ph), mode="replicate") if ph or pw else x * 2 - 1
        return self.of_input(h.contiguous(memory_format=torch.channels_last))[..., :H, :W]

    def of_input(self, h: torch.Tensor) -> torch.Tensor:
        """The residual of h = 2x - 1 (N, 3, H, W), already padded to multiples of 4 (in bfloat16
        a frame at a time: the compiled upsampling pass takes one)."""
        if self.low and h.shape[0] != 1:
            return torch.cat([self.of_input(h[i:i + 1]) for i in range(h.shape[0])])
        g = self.gen
        f0 = _conv(g.inc, h, "leaky_relu")
        f1 = _conv(g.down1, f0, "leaky_relu")
        f2 = _conv(g.down2, f1, "leaky_relu")
        for block in g.body:
            f2 = _conv(block.b, _conv(block.a, f2, "leaky_relu"), add=f2)
        deep = _conv(g.up1, f2, weight=self.up_deep, bias=None)
        skip = _conv(g.up1, f1, weight=self.up_skip)
        if self.low:
            u1 = up_add_leaky(deep, skip)
            u0 = up_add_leaky(_conv(g.to_full, u1), f0)
        else:   # torch's upsampling, as the module: the same bits
            u1 = F.leaky_relu(F.interpolate(deep, size=skip.shape[-2:], mode="bilinear", align_corners=False) + skip,
                              SLOPE)
            up = F.interpolate(_conv(g.to_full, u1), size=f0.shape[-2:], mode="bilinear", align_corners=False)
            u0 = F.leaky_relu(up + f0, SLOPE)
        return _conv(g.out, u0)


def _conv(conv: torch.nn.Conv2d, x: torch.Tensor, unary: str = "none", add: torch.Tensor | None = None,
          weight: torch.Tensor | None = None, bias: torch.Tensor | None | str = "own") -> torch.Tensor:
    """conv(x) followed by a leaky ReLU (`unary`) or plus `add`, as one oneDNN convolution."""
    w = conv.weight if weight is None else weight
    b = conv.bias if isinstance(bias, str) else bias
    pad, stride, dil = list(conv.padding), list(conv.stride), list(conv.dilation)
    if add is not None:
        return torch.ops.mkldnn._convolution_pointwise.binary(x, add, w, b, pad, stride, dil, conv.groups, "add",
                                                              None, None, [], None)
    scalars = [SLOPE] if unary == "leaky_relu" else []
    return torch.ops.mkldnn._convolution_pointwise(x, w, b, pad, stride, dil, conv.groups, unary, scalars, "")


def up_add_leaky(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """leaky(upsample2x(a) + b) of bfloat16 tensors (1, C, h, w) and (1, C, 2h, 2w), channels-last:
    bilinear (align_corners=False) in float32 rounded to bfloat16, the sum rounded, the leaky ReLU
    rounded, as torch's bfloat16 operations round each step."""
    n, C, h, w = a.shape
    if n != 1 or b.shape != (1, C, 2 * h, 2 * w):
        raise ValueError(f"up_add_leaky takes (1, C, h, w) and (1, C, 2h, 2w), got {tuple(a.shape)}, {tuple(b.shape)}")
    out = torch.empty((1, 2 * h, 2 * w, C), dtype=torch.bfloat16)
    skip = _bits(b).reshape(2 * h, 2 * w * C)
    _up_add_leaky(_bits(a), skip, out.view(torch.int16).numpy().reshape(2 * h, 2 * w * C), np.float32(SLOPE))
    return out.permute(0, 3, 1, 2)


def _bits(t: torch.Tensor) -> np.ndarray:
    """(h, w, C) int16 bits of a bfloat16 (1, C, h, w) tensor, without a copy when channels-last."""
    return t.permute(0, 2, 3, 1)[0].contiguous().view(torch.int16).numpy()


@intrinsic
def _as_float(typingctx, u):
    """The float32 whose bits are the uint32 u."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.uint32), codegen


@intrinsic
def _as_bits(typingctx, f):
    """The bits of the float32 f, as a uint32."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))
    return types.uint32(types.float32), codegen


@njit(cache=True, nogil=True, inline="always")
def _f32(bits):
    """The float32 value of bfloat16 bits (int16)."""
    return _as_float(np.uint32(np.uint16(bits)) << np.uint32(16))


@njit(cache=True, nogil=True, inline="always")
def _bf16(f):
    """f rounded to the nearest bfloat16 (ties to even, NaN kept), as a float32."""
    u = _as_bits(f)
    if (u & np.uint32(0x7FFFFFFF)) > np.uint32(0x7F800000):
        return _as_float(u | np.uint32(0x00400000))
    return _as_float((u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))) & np.uint32(0xFFFF0000))


@njit(cache=True, nogil=True, inline="always")
def _taps(x, n):
    """Output x of a 2x bilinear upsampling (align_corners=False) of n inputs: the two inputs it
    reads and the second one's weight (x / 2 - 0.25, clamped at the edges)."""
    i = x // 2
    if x == 0:
        return 0, 0, np.float32(0.0)
    if x % 2 == 0:
        return i - 1, i, np.float32(0.75)
    return i, min(i + 1, n - 1), np.float32(0.25)


@njit(cache=True, nogil=True)
def _up_add_leaky(a, b, out, slope):
    """out = leaky(up(a) + b) on bfloat16 bits (int16): a (h, w, C), b and out (2h, 2w * C). Each
    row of a is upsampled across once; each output row mixes two of those rows."""
    h, w, C = a.shape
    n = 2 * w * C
    one = np.float32(1.0)
    rows = np.empty((h, n), np.float32)
    for y in range(h):
        for x in range(2 * w):
            x0, x1, r = _taps(x, w)
            for c in range(C):
                rows[y, x * C + c] = (one - r) * _f32(a[y, x0, c]) + r * _f32(a[y, x1, c])
    for Y in range(2 * h):
        y0, y1, r = _taps(Y, h)
        for k in range(n):
            s = _bf16(_bf16((one - r) * rows[y0, k] + r * rows[y1, k]) + _f32(b[Y, k]))
            if s <= 0.0:
                s = _bf16(s * slope)
            out[Y, k] = np.int16(np.uint16(_as_bits(s) >> np.uint32(16)))
