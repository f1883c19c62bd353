"""io/png.py: PNG files deflated in parts on threads decode to the input's pixels in any reader."""
from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from PIL import Image

from synthdata.io.png import png_bytes, write_png


@pytest.mark.parametrize("shape", [(1, 1, 3), (2, 5, 3), (7, 3, 3), (97, 130, 3)])
@pytest.mark.parametrize("parts", [1, 2, 3, 8])
def test_png_in_parts_decodes_to_the_same_pixels(shape, parts):
    rng = np.random.default_rng(sum(shape) + parts)
    rgb = rng.integers(0, 256, shape, dtype=np.uint8)
    rgb[: shape[0] // 2] = rgb[: shape[0] // 2] // 16 * 16      # flat areas too, which deflate refers back into
    data = png_bytes(rgb, parts)
    back = Image.open(io.BytesIO(data))
    assert back.mode == "RGB" and back.size == (shape[1], shape[0])
    assert np.array_equal(np.asarray(back), rgb)
    # one zlib stream whose checksum zlib itself accepts (Pillow may not check it)
    idat = data[data.index(b"IDAT") + 4:data.index(b"IEND") - 8]
    raw = zlib.decompress(idat)
    assert len(raw) == shape[0] * (shape[1] * 3 + 1)


def test_write_png_and_bad_input(tmp_path):
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[1, 2] = (255, 10, 0)
    write_png(tmp_path / "a.png", rgb)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "a.png")), rgb)
    with pytest.raises(ValueError, match="uint8 RGB"):
        png_bytes(np.zeros((4, 6), np.uint8))
    with pytest.raises(ValueError, match="uint8 RGB"):
        png_bytes(np.zeros((4, 6, 3), np.float32))
