"""RGB PNG files written quickly: each row "Up"-filtered (PNG filter 2) in one numpy pass, then the
rows deflated in parts on threads (zlib releases the GIL), as pigz does: every part is a raw
deflate stream that ends on a byte boundary (a sync flush), the last one finished, and the parts
joined are one zlib stream for a single IDAT chunk. Any PNG reader decodes it; the pixels are the
input's exactly. A 1928 x 1448 contact sheet (`synthdata preview`) takes about 0.11 s on 2 cores
against 0.39 s for Pillow at compression level 1, for a file 3 % larger.
"""
from __future__ import annotations

import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
UP = 2                  # PNG filter type: each byte minus the one above it
LEVEL = 1               # zlib's fastest level (the contact sheet is looked at, not archived)
ZLIB_HEADER = b"\x78\x01"     # deflate, 32 KiB window, "fastest" (a multiple of 31, as zlib asks)


def png_bytes(rgb: np.ndarray, parts: int | None = None) -> bytes:
    """The PNG file of rgb (H, W, 3) uint8, deflated in `parts` pieces (default: one a core, at
    most 4) on as many threads."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected (H, W, 3) uint8 RGB, got {rgb.dtype} {rgb.shape}")
    H, W, _ = rgb.shape
    rows = np.ascontiguousarray(rgb).reshape(H, W * 3)
    raw = np.empty((H, W * 3 + 1), np.uint8)
    raw[:, 0] = UP
    raw[:1, 1:] = rows[:1]
    np.subtract(rows[1:], rows[:-1], out=raw[1:, 1:])       # uint8: modulo 256, as PNG's filter
    n = max(1, min(parts or min(os.cpu_count() or 1, 4), H))
    cuts = np.linspace(0, H, n + 1).astype(int)

    def deflate(i: int) -> bytes:
        c = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)      # raw deflate: the zlib wrapper is ours
        body = c.compress(raw[cuts[i]:cuts[i + 1]])
        return body + c.flush(zlib.Z_FINISH if i == n - 1 else zlib.Z_SYNC_FLUSH)

    if n == 1:
        pieces = [deflate(0)]
    else:
        with ThreadPoolExecutor(n, thread_name_prefix="synthdata-png") as pool:
            pieces = list(pool.map(deflate, range(n)))
    data = ZLIB_HEADER + b"".join(pieces) + struct.pack(">I", zlib.adler32(raw) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 0)     # 8 bits a channel, RGB, no interlace
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png(path: str | Path, rgb: np.ndarray) -> None:
    """Write rgb (H, W, 3) uint8 to path as a PNG file (`png_bytes`)."""
    Path(path).write_bytes(png_bytes(rgb))
