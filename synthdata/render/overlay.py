"""On-screen text burned in by CCTV recorders: timestamp and camera name, in a built-in 5x7
bitmap font (no font files).

The text is opaque: its pixels (glyphs and their one-pixel dark outline) replace the picture,
so they count as occluders in the instance buffer (0) and the depth buffer (0 m), and labels
keep describing exactly the object pixels that remain visible.
"""
from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from synthdata.render.parts import PART_LENS

# 5 columns x 7 rows per glyph, '#' = ink
_FONT_ROWS = {
    "0": ".###.|#...#|#..##|#.#.#|##..#|#...#|.###.", "1": "..#..|.##..|..#..|..#..|..#..|..#..|.###.",
    "2": ".###.|#...#|....#|...#.|..#..|.#...|#####", "3": "####.|....#|....#|.###.|....#|....#|####.",
    "4": "...#.|..##.|.#.#.|#..#.|#####|...#.|...#.", "5": "#####|#....|####.|....#|....#|#...#|.###.",
    "6": ".###.|#....|#....|####.|#...#|#...#|.###.", "7": "#####|....#|...#.|..#..|.#...|.#...|.#...",
    "8": ".###.|#...#|#...#|.###.|#...#|#...#|.###.", "9": ".###.|#...#|#...#|.####|....#|....#|.###.",
    "A": ".###.|#...#|#...#|#####|#...#|#...#|#...#", "B": "####.|#...#|#...#|####.|#...#|#...#|####.",
    "C": ".###.|#...#|#....|#....|#....|#...#|.###.", "D": "####.|#...#|#...#|#...#|#...#|#...#|####.",
    "E": "#####|#....|#....|####.|#....|#....|#####", "F": "#####|#....|#....|####.|#....|#....|#....",
    "G": ".###.|#...#|#....|#.###|#...#|#...#|.####", "H": "#...#|#...#|#...#|#####|#...#|#...#|#...#",
    "I": ".###.|..#..|..#..|..#..|..#..|..#..|.###.", "J": "..###|...#.|...#.|...#.|...#.|#..#.|.##..",
    "K": "#...#|#..#.|#.#..|##...|#.#..|#..#.|#...#", "L": "#....|#....|#....|#....|#....|#....|#####",
    "M": "#...#|##.##|#.#.#|#.#.#|#...#|#...#|#...#", "N": "#...#|##..#|#.#.#|#..##|#...#|#...#|#...#",
    "O": ".###.|#...#|#...#|#...#|#...#|#...#|.###.", "P": "####.|#...#|#...#|####.|#....|#....|#....",
    "Q": ".###.|#...#|#...#|#...#|#.#.#|#..#.|.##.#", "R": "####.|#...#|#...#|####.|#.#..|#..#.|#...#",
    "S": ".####|#....|#....|.###.|....#|....#|####.", "T": "#####|..#..|..#..|..#..|..#..|..#..|..#..",
    "U": "#...#|#...#|#...#|#...#|#...#|#...#|.###.", "V": "#...#|#...#|#...#|#...#|#...#|.#.#.|..#..",
    "W": "#...#|#...#|#...#|#.#.#|#.#.#|#.#.#|.#.#.", "X": "#...#|#...#|.#.#.|..#..|.#.#.|#...#|#...#",
    "Y": "#...#|#...#|.#.#.|..#..|..#..|..#..|..#..", "Z": "#####|....#|...#.|..#..|.#...|#....|#####",
    "-": ".....|.....|.....|.###.|.....|.....|.....", ":": ".....|..#..|..#..|.....|..#..|..#..|.....",
    ".": ".....|.....|.....|.....|.....|.##..|.##..", "/": "....#|...#.|...#.|..#..|.#...|.#...|#....",
    "_": ".....|.....|.....|.....|.....|.....|#####", "#": ".#.#.|#####|.#.#.|.#.#.|.#.#.|#####|.#.#.",
    "+": ".....|..#..|..#..|#####|..#..|..#..|.....", " ": ".....|.....|.....|.....|.....|.....|.....",
}
FONT = {c: np.array([[ch == "#" for ch in row] for row in g.split("|")], bool) for c, g in _FONT_ROWS.items()}
GLYPH_W, GLYPH_H = 5, 7
INK, OUTLINE = 235, 12


def text_mask(text: str, scale: int = 1) -> np.ndarray:
    """(7 * scale, 6 * scale * len(text)) bool ink of `text` (unknown characters print as '#')."""
    cols = []
    for ch in text.upper():
        g = FONT.get(ch, FONT["#"])
        cols += [g, np.zeros((GLYPH_H, 1), bool)]
    m = np.concatenate(cols, 1) if cols else np.zeros((GLYPH_H, 0), bool)
    return np.kron(m, np.ones((scale, scale), bool)).astype(bool)


def overlay_lines(start: str, name: str, frame: int, fps: float) -> list[str]:
    """The timestamp of `frame` (start time 'YYYY-MM-DD HH:MM:SS' + frame / fps) and the name."""
    t0 = _dt.datetime.strptime(start, "%Y-%m-%d %H:%M:%S")
    return [(t0 + _dt.timedelta(seconds=int(frame / fps))).strftime("%Y-%m-%d %H:%M:%S"), name]


def block_mask(lines: list[str], scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Ink and outline masks (h, w) of left-aligned lines with one glyph-row of spacing (kept:
    the text changes once a second, every frame draws it)."""
    ink, edge = _block_mask(tuple(lines), scale)
    return ink.copy(), edge.copy()


@functools.lru_cache(maxsize=64)
def _block_mask(lines: tuple[str, ...], scale: int) -> tuple[np.ndarray, np.ndarray]:
    masks = [text_mask(l, scale) for l in lines]
    w = max(m.shape[1] for m in masks) + 2
    h = sum(m.shape[0] for m in masks) + (len(masks) - 1) * 2 * scale + 2
    ink = np.zeros((h, w), bool)
    y = 1
    for m in masks:
        ink[y:y + m.shape[0], 1:1 + m.shape[1]] = m
        y += m.shape[0] + 2 * scale
    pad = np.pad(ink, 1)
    grown = np.zeros_like(ink)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            grown |= pad[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
    return ink, grown & ~ink


def draw_overlay(rgb: torch.Tensor, inst: torch.Tensor, depth: torch.Tensor, frames: range, start: str, name: str,
                 fps: float, position: str = "top_left", part: torch.Tensor | None = None) -> None:
    """Burn the overlay into frames (t, H, W, 3) uint8 in place; its pixels become occluders
    (instance 0, depth 0 m, and part PART_LENS when the part buffer is given)."""
    planes = _planes([rgb, inst, depth] + ([part] if part is not None else []))
    for i, (y, x), ink, edge, cover in _placed(inst.shape[1:], frames, start, name, fps, position, rgb.device):
        region = planes[0][i, y, x]
        region[edge] = OUTLINE
        region[ink] = INK
        for plane, value in zip(planes[1:], (0, 0.0, PART_LENS)):
            plane[i, y, x][cover] = value


def mark_overlay(inst: torch.Tensor, depth: torch.Tensor, part: torch.Tensor | None, frames: range, start: str,
                 name: str, fps: float, position: str = "top_left") -> Callable[[], None]:
    """What `draw_overlay` writes into the label planes, written now (so labels can be read before
    the picture is finished), and the function that puts back what was under it (the camera's
    passes before the overlay read the scene there; `draw_overlay` then writes it again)."""
    planes = _planes([inst, depth] + ([part] if part is not None else []))
    held = []
    for i, (y, x), _ink, _edge, cover in _placed(inst.shape[1:], frames, start, name, fps, position, inst.device):
        held.append((i, y, x, [p[i, y, x].clone() if hasattr(p, "clone") else p[i, y, x].copy() for p in planes]))
        for plane, value in zip(planes, (0, 0.0, PART_LENS)):
            plane[i, y, x][cover] = value

    def undo() -> None:
        for i, y, x, saved in held:
            for plane, was in zip(planes, saved):
                plane[i, y, x] = was
    return undo


def _planes(planes: list[torch.Tensor]) -> list:
    """numpy views on the CPU: a few masked writes a frame, without torch's overhead."""
    return [p.numpy() for p in planes] if planes[0].device.type == "cpu" else planes


def _placed(size: tuple[int, int], frames: range, start: str, name: str, fps: float, position: str,
            device: torch.device) -> Iterator[tuple[int, tuple[slice, slice], Any, Any, Any]]:
    """For each frame i of `frames` with text: (i, (rows, columns) of the text's block in an
    (H, W) frame, ink, outline and both, as masks of that block: numpy on the CPU, else tensors)."""
    H, W = size
    scale = max(1, H // 200)
    margin = 2 * scale
    cache: dict[tuple, tuple] = {}
    for i, f in enumerate(frames):
        key = tuple(overlay_lines(start, name, f, fps))
        if key not in cache:
            ink, edge = block_mask(list(key), scale)
            h, w = min(ink.shape[0], H - margin), min(ink.shape[1], W - margin)
            masks = ink[:h, :w], edge[:h, :w], ink[:h, :w] | edge[:h, :w]
            cache[key] = masks if device.type == "cpu" else tuple(torch.as_tensor(m, device=device) for m in masks)
        ink_t, edge_t, cover = cache[key]
        h, w = ink_t.shape
        if h <= 0 or w <= 0:
            continue
        y0 = margin if position.startswith("top") else H - margin - h
        x0 = margin if position.endswith("left") else W - margin - w
        yield i, (slice(y0, y0 + h), slice(x0, x0 + w)), ink_t, edge_t, cover
