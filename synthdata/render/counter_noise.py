"""Sensor noise draws the compiled kernels make per pixel (render/kernels.py, render/gpu.py): a
counter-based hash of (seed, pixel, channel), so every device draws the same bits without any
random-number state. Scalar functions registered with numba, like render/pixel.py.

`noise_sample` is the definition, compiled for CUDA and run as Python by numba's simulator.
numba widens integer maths to 64 bits, so its hash vectorises in 64-bit lanes on a CPU;
`noise_sample32` draws the same bits with the hash and the sum of its bytes written as 32-bit
LLVM integer operations (twice the lanes; about 4x faster), for the CPU kernels
(tests/test_render_kernels.py holds the two equal).
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, register_jitable

from synthdata.render.planes import kept


MUL1, MUL2 = 0x7FEB352D, 0x846CA68B     # lowbias32's multipliers
UNIT_SCALE = 1.0 / math.sqrt(21845.0)    # `unit_draw`: one over the byte sum's standard deviation


@register_jitable
def hash32(v):
    """A 32-bit integer hash (lowbias32) of a non-negative integer, kept to 32 bits."""
    v = int(v) & 0xFFFFFFFF          # int(): exact (unbounded) integers when run as plain Python
    v ^= v >> 16
    v = (v * MUL1) & 0xFFFFFFFF
    v ^= v >> 15
    v = (v * MUL2) & 0xFFFFFFFF
    v ^= v >> 16
    return v


@register_jitable
def unit_draw(h):
    """A 32-bit hash word -> a unit-variance, zero-mean float32: the sum of its four bytes as
    uniforms (0 .. 1020, mean 510, variance 4 (256**2 - 1) / 12 = 21845), centred and scaled."""
    s = (h & 0xFF) + ((h >> 8) & 0xFF) + ((h >> 16) & 0xFF) + (h >> 24)
    return (np.float32(s) - np.float32(510.0)) * np.float32(UNIT_SCALE)


@register_jitable
def noise_sample(seed, element):
    """A unit-variance, zero-mean float32 draw for (seed, element) from a counter-based hash
    (two hash rounds, `unit_draw`). `element` is the flat index of a value in an (H, W, 3)
    frame, (y * W + x) * 3 + channel. Integer maths only, so the same bits come out on every
    device."""
    return unit_draw(hash32(hash32(element) ^ (int(seed) & 0xFFFFFFFF)))


@register_jitable
def sensor_value(v, n, a, b):
    """Exposed linear float32 v with Poisson-Gaussian sensor noise: v + sqrt(a max(v, 0) + b) n
    for a unit draw n (heteroscedastic Gaussian form; a = gain / full well, b = read noise term)."""
    return v + np.float32(math.sqrt(max(v, np.float32(0.0)) * np.float32(a) + np.float32(b))) * n


@intrinsic
def _lowbias32(typingctx, v):
    """`hash32` of a uint32 in 32-bit LLVM integer operations (wrap-around multiplies)."""
    def codegen(context, builder, signature, args):
        word = ir.IntType(32)

        def xorshift(x, s):
            return builder.xor(x, builder.lshr(x, ir.Constant(word, s)))
        x = builder.mul(xorshift(args[0], 16), ir.Constant(word, MUL1))
        x = builder.mul(xorshift(x, 15), ir.Constant(word, MUL2))
        return xorshift(x, 16)
    return types.uint32(types.uint32), codegen


@intrinsic
def _bytes32(typingctx, h):
    """`unit_draw`'s integer sum of the four bytes of a uint32 word in 32-bit LLVM integer
    operations (pairs of bytes summed in 16-bit fields, then the two fields), as float32."""
    def codegen(context, builder, signature, args):
        word = ir.IntType(32)
        pairs = ir.Constant(word, 0x00FF00FF)
        x = args[0]
        s = builder.add(builder.and_(x, pairs), builder.and_(builder.lshr(x, ir.Constant(word, 8)), pairs))
        s = builder.add(builder.and_(s, ir.Constant(word, 0xFFFF)), builder.lshr(s, ir.Constant(word, 16)))
        return builder.sitofp(s, ir.FloatType())
    return types.float32(types.uint32), codegen


@intrinsic
def _element32(typingctx, base, offset):
    """(base + offset) mod 2**32 of two int64 values, added as 32-bit integers: a loop over
    offsets then counts in 32-bit lanes (numba's own sum would be 64-bit, half the lanes)."""
    def codegen(context, builder, signature, args):
        word = ir.IntType(32)
        return builder.add(builder.trunc(args[0], word), builder.trunc(args[1], word))
    return types.uint32(types.int64, types.int64), codegen


@njit(inline="always")
def noise_sample32(seed32, base, offset):
    """`noise_sample(seed, base + offset)` for numba's CPU target: seed32 the seed as np.uint32,
    base and offset int64 (a row's first element and the index in the row, in the kernels' loops)."""
    return noise_of_hash(seed32, _lowbias32(_element32(base, offset)))


@njit(inline="always")
def noise_of_hash(seed32, element_hash):
    """`noise_sample(seed, element)` from element's first hash round (`element_hashes`), uint32:
    the draw's second round (the only one that depends on the seed) and `unit_draw`."""
    h = _lowbias32(element_hash ^ seed32)
    return (_bytes32(h) - np.float32(510.0)) * np.float32(UNIT_SCALE)


@njit(cache=True, nogil=True)
def _element_hashes(out):
    for i in range(out.shape[0]):
        out[i] = _lowbias32(_element32(0, i))


def element_hashes(count: int) -> np.ndarray:
    """(count,) uint32: the first hash round of elements 0 .. count - 1, which no seed enters, so
    every frame of a size draws from the same table (the calling thread's, made once a size):
    the kernels that draw a frame's every value (the sensor pass, the plates' noise) then hash
    once a value, not twice (about 0.5 ms a frame less at 640x480; the same bits)."""
    def make() -> np.ndarray:
        out = np.empty(count, np.uint32)
        _element_hashes(out)
        return out
    return kept("counter_noise.element_hashes", (count,), make)


@njit(cache=True, nogil=True)
def noise_field(seed32, count):
    """`noise_sample(seed32, element)` for elements 0 .. count - 1 as a float32 array (the kernels'
    own draw, for drivers that add noise outside a kernel, such as the plates' torch path)."""
    out = np.empty(count, np.float32)
    s = np.uint32(seed32)
    for i in range(count):
        out[i] = noise_sample32(s, 0, i)
    return out
