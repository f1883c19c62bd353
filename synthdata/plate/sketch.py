"""A sketch over the plate -> pixel shapes (`Sketch`), from a painted PNG layer or a JSON file.

PNG layer: the plate's size, painted with hard (not anti-aliased) brushes in PALETTE colours;
transparent, black or white pixels mark nothing. Each connected patch of one colour is one
shape: green walkable ground, magenta no-go areas, red restricted zones, yellow entry/exit
points (a dab; its centre counts), orange foreground occluders (their ground contact line is
the patch's lower edge), blue tripwire strokes (from the left end to the right end; a cyan dab
next to a stroke marks its side "b" and makes a -> b crossings the ones that count, otherwise both
ways count).

JSON: pixel coordinates [u, v] (top-left origin, v down), every key optional:
    {"walkable": [[[u, v], ...], ...], "no_go": [[[u, v], ...], ...],
     "zones": [{"name": "door", "role": "restricted", "points": [[u, v], ...]}],
     "tripwires": [{"name": "gate", "points": [[u, v], [u, v]], "crossing": "a_to_b"}],
     "entries": [[u, v], ...],
     "occluders": [{"name": "pillar", "region": [[u, v], ...], "contact": [[u, v], ...]}],
     "lanes": [{"name": "aisle", "points": [[u, v], ...], "width_m": 3.0}]}
Lanes (JSON only) are directed driving centrelines, extended 15 m past both ends on the ground so
vehicles can drive in and out of view. Tripwire sides: "b" lies left of the drawn direction as seen in the image.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synthdata.errors import BadInput
from synthdata.plate.cvload import cv2

PALETTE = {"walkable": "#00ff00", "no_go": "#ff00ff", "restricted": "#ff0000", "tripwire": "#0000ff",
           "direction": "#00ffff", "entry": "#ffff00", "occluder": "#ff8000"}
BLANK = ("#000000", "#ffffff")
TOLERANCE = 40             # per channel, levels: a painted colour within this of a palette colour is it
ROLES = ("restricted", "no_parking", "loitering", "watch")
CROSSINGS = ("both", "a_to_b", "b_to_a")


@dataclass
class Sketch:
    """Pixel shapes over the plate (plate pixels, top-left origin)."""

    source: str
    walkable: list[np.ndarray] = field(default_factory=list)
    no_go: list[np.ndarray] = field(default_factory=list)
    zones: list[dict[str, Any]] = field(default_factory=list)        # name, role, points
    tripwires: list[dict[str, Any]] = field(default_factory=list)    # name, points, crossing
    entries: list[np.ndarray] = field(default_factory=list)
    occluders: list[dict[str, Any]] = field(default_factory=list)    # name, region, contact
    lanes: list[dict[str, Any]] = field(default_factory=list)        # name, points, width_m


def _hex(h: str) -> np.ndarray:
    return np.array([int(h[i:i + 2], 16) for i in (1, 3, 5)], np.int16)


def read_sketch(path: str | Path, size: tuple[int, int]) -> Sketch:
    p = Path(path)
    if not p.is_file():
        raise BadInput(f"{p}: no such sketch file; give a PNG layer or a JSON file of pixel shapes")
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(p.read_text())
        except (ValueError, UnicodeDecodeError) as e:
            raise BadInput(f"{p}: not valid JSON ({e}); see the plate sketch format in README.md") from None
        return sketch_from_json(data, str(p), size)
    return sketch_from_png(p, size)


# ---- JSON -------------------------------------------------------------------------------------
def _points(v: Any, where: str, least: int, size: tuple[int, int]) -> np.ndarray:
    try:
        a = np.asarray(v, float)
    except (TypeError, ValueError):
        a = None
    if a is None or a.ndim != 2 or a.shape[1] != 2 or len(a) < least or not np.all(np.isfinite(a)):
        raise BadInput(f"{where}: expected a list of at least {least} [u, v] pixel points, got {json.dumps(v)[:80]}")
    bad = (a[:, 0] < 0) | (a[:, 0] > size[0]) | (a[:, 1] < 0) | (a[:, 1] > size[1])
    if bad.any():
        u, v_ = a[np.flatnonzero(bad)[0]]
        raise BadInput(f"{where}: point [{u:g}, {v_:g}] lies outside the {size[0]}x{size[1]} plate")
    return a


def _items(data: dict, key: str, src: str, required: tuple[str, ...], shape: str):
    """(index, where, item) for each object of data[key], checked to hold the required keys."""
    for i, item in enumerate(data.get(key, [])):
        where = f"{src}: {key}[{i}]"
        if not isinstance(item, dict) or any(k not in item for k in required):
            raise BadInput(f"{where}: expected {shape}")
        yield i, where, item


def _one_of(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise BadInput(f"{where}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def sketch_from_json(data: Any, src: str, size: tuple[int, int]) -> Sketch:
    if not isinstance(data, dict):
        raise BadInput(f"{src}: expected a JSON object with walkable, no_go, zones, tripwires, entries, occluders")
    known = {"walkable", "no_go", "zones", "tripwires", "entries", "occluders", "lanes"}
    extra = sorted(set(data) - known)
    if extra:
        raise BadInput(f"{src}: {extra[0]}: unknown key; expected one of {', '.join(sorted(known))}")
    s = Sketch(src)
    s.walkable = [_points(q, f"{src}: walkable[{i}]", 3, size) for i, q in enumerate(data.get("walkable", []))]
    s.no_go = [_points(q, f"{src}: no_go[{i}]", 3, size) for i, q in enumerate(data.get("no_go", []))]
    s.entries = [_points([q], f"{src}: entries[{i}]", 1, size)[0] for i, q in enumerate(data.get("entries", []))]
    for i, where, z in _items(data, "zones", src, ("points",), "{name, role, points}"):
        role = _one_of(z.get("role", "restricted"), ROLES, f"{where}.role")
        s.zones.append({"name": str(z.get("name", f"zone_{i + 1}")), "role": role,
                        "points": _points(z["points"], f"{where}.points", 3, size)})
    for i, where, t in _items(data, "tripwires", src, ("points",), "{name, points, crossing}"):
        crossing = _one_of(t.get("crossing", "both"), CROSSINGS, f"{where}.crossing")
        s.tripwires.append({"name": str(t.get("name", f"tripwire_{i + 1}")), "crossing": crossing,
                            "points": _points(t["points"], f"{where}.points", 2, size)})
    for i, where, o in _items(data, "occluders", src, ("region", "contact"),
                              "{name, region, contact} (region polygon and ground contact line)"):
        s.occluders.append({"name": str(o.get("name", f"occluder_{i + 1}")),
                            "region": _points(o["region"], f"{where}.region", 3, size),
                            "contact": _points(o["contact"], f"{where}.contact", 2, size)})
    for i, where, ln in _items(data, "lanes", src, ("points",), "{name, points, width_m} (a driving centreline)"):
        width = ln.get("width_m", 3.0)
        if not isinstance(width, (int, float)) or not 1.5 <= width <= 20:
            raise BadInput(f"{where}.width_m: expected a lane width in metres between 1.5 and 20, got {width!r}")
        s.lanes.append({"name": str(ln.get("name", f"lane_{i + 1}")), "width_m": float(width),
                        "points": _points(ln["points"], f"{where}.points", 2, size)})
    return s


# ---- PNG --------------------------------------------------------------------------------------
def classify(img: np.ndarray, src: str) -> np.ndarray:
    """(H, W) int: index into PALETTE's keys, -1 for nothing; BadInput for other colours."""
    rgb = img[..., :3][..., ::-1].astype(np.int16) if img.ndim == 3 else np.repeat(img[..., None], 3, -1).astype(np.int16)
    alpha = img[..., 3] if img.ndim == 3 and img.shape[2] == 4 else np.full(img.shape[:2], 255)
    label = np.full(img.shape[:2], -2, np.int32)
    label[alpha < 128] = -1
    for h in BLANK:
        label[(label == -2) & (np.abs(rgb - _hex(h)).max(-1) <= TOLERANCE)] = -1
    for k, h in enumerate(PALETTE.values()):
        label[(label == -2) & (np.abs(rgb - _hex(h)).max(-1) <= TOLERANCE)] = k
    bad = label == -2
    if bad.any():
        v, u = np.argwhere(bad)[0]
        c = "#" + "".join(f"{int(x):02x}" for x in rgb[v, u])
        raise BadInput(f"{src}: {int(bad.sum())} pixel(s) are not palette colours (first at pixel [{u}, {v}]: {c}); "
                       f"paint with a hard brush in {', '.join(f'{k} {h}' for k, h in PALETTE.items())} "
                       "(transparent, black or white for nothing)")
    return label


def sketch_from_png(p: Path, size: tuple[int, int]) -> Sketch:
    cv = cv2()
    raw = np.fromfile(str(p), np.uint8)
    img = cv.imdecode(raw, cv.IMREAD_UNCHANGED) if len(raw) else None
    if img is None:
        raise BadInput(f"{p}: cannot read it as an image; the sketch must be a PNG layer or a JSON file")
    if img.dtype != np.uint8:
        img = (img / 257).astype(np.uint8)
    if (img.shape[1], img.shape[0]) != tuple(size):
        raise BadInput(f"{p}: the sketch is {img.shape[1]}x{img.shape[0]} but the plate is {size[0]}x{size[1]}; "
                       "paint it over the plate image at the same size")
    label = classify(img, str(p))
    names = list(PALETTE)
    m = {k: (label == i).astype(np.uint8) for i, k in enumerate(names)}
    s = Sketch(str(p))
    ground = m["walkable"] | m["restricted"] | m["entry"] | m["tripwire"] | m["direction"]
    cols = np.where(ground.any(0), ground.argmax(0), size[1])
    rows = np.arange(size[1])[:, None]
    ground = ground | (m["occluder"] & (rows >= cols[None, :]))     # ground behind occluders stays walkable
    ground = cv.morphologyEx(ground, cv.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    s.walkable = _polygons(ground)
    s.no_go = _polygons(m["no_go"])
    s.zones = [{"name": f"restricted_{i + 1}", "role": "restricted", "points": q}
               for i, q in enumerate(_polygons(m["restricted"]))]
    s.entries = [c for c, _ in _blobs(m["entry"])]
    dots = [c for c, _ in _blobs(m["direction"])]
    for i, (_, pix) in enumerate(_blobs(m["tripwire"])):
        pts = pix.astype(float) + 0.5
        c = pts.mean(0)
        axis = np.linalg.svd(pts - c)[2][0]
        proj = (pts - c) @ axis
        ends = np.stack([pts[np.argmin(proj)], pts[np.argmax(proj)]])
        if ends[0, 0] > ends[1, 0]:
            ends = ends[::-1]
        crossing = "both"
        if dots:                                          # the dab marks side b: crossings a -> b count
            dot = min(dots, key=lambda d: float(np.linalg.norm(d - c)))
            d = ends[1] - ends[0]
            if (dot - c) @ np.array([d[1], -d[0]]) < 0:   # keep the dab left of the drawn direction
                ends = ends[::-1]
            crossing = "a_to_b"
        s.tripwires.append({"name": f"tripwire_{i + 1}", "points": ends, "crossing": crossing})
    for i, (_, pix) in enumerate(_blobs(m["occluder"])):
        region = _polygons(m["occluder"] * 0 + _component(m["occluder"], pix))[0]
        s_contact = contact_line(pix)
        s.occluders.append({"name": f"occluder_{i + 1}", "region": region, "contact": s_contact})
    return s


def contact_line(pix: np.ndarray, band: float = 0.15) -> np.ndarray:
    """A painted occluder's ground contact line: a straight fit through the bottom pixels of the
    columns whose bottom lies within `band` of the patch's height of its lowest point (a pillar's
    foot, a van's wheels, a table's base), spanning those columns. (2, 2) pixels."""
    us = np.unique(pix[:, 0])
    bottom = np.array([pix[pix[:, 0] == u, 1].max() + 1.0 for u in us])
    low = bottom.max()
    keep = bottom >= low - band * max(np.ptp(pix[:, 1]) + 1, 1)
    u, b = us[keep] + 0.5, bottom[keep]
    k, c = np.polyfit(u, b, 1) if np.ptp(u) > 0 else (0.0, float(b.mean()))
    u0, u1 = float(u.min()) - 0.5, float(u.max()) + 0.5
    return np.array([[u0, k * u0 + c], [u1, k * u1 + c]])


def _component(mask: np.ndarray, pix: np.ndarray) -> np.ndarray:
    out = np.zeros_like(mask)
    out[pix[:, 1], pix[:, 0]] = 1
    return out


def _polygons(mask: np.ndarray, min_area: float = 12.0) -> list[np.ndarray]:
    """Outer outlines (pixel-corner coordinates) of the mask's patches."""
    cv = cv2()
    contours, _ = cv.findContours(mask.astype(np.uint8), cv.RETR_EXTERNAL, cv.CHAIN_APPROX_SIMPLE)
    out = []
    for c in contours:
        if cv.contourArea(c) < min_area:
            continue
        q = cv.approxPolyDP(c, 1.0, True).reshape(-1, 2).astype(float) + 0.5
        if len(q) >= 3:
            out.append(q)
    return out


def _blobs(mask: np.ndarray, min_pixels: int = 4) -> list[tuple[np.ndarray, np.ndarray]]:
    """(centre [u, v], pixels (N, 2) as [u, v]) of each connected patch, in raster order."""
    n, lab = cv2().connectedComponents(mask.astype(np.uint8), connectivity=8)
    out = []
    for k in range(1, n):
        vv, uu = np.nonzero(lab == k)
        if len(uu) >= min_pixels:
            pix = np.stack([uu, vv], 1)
            out.append((pix.mean(0) + 0.5, pix))
    return out
