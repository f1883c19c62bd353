"""Built-in appearance palettes and vehicle dimensions (sRGB hex colours, metres).

Used when a recipe leaves a colour unset. Clothing leans to the dark and neutral colours that
dominate street scenes; car paints follow typical fleet shares (white, black, grey, silver first).
"""
from __future__ import annotations

import numpy as np

from synthdata.world.spec import BagParams

TOPS = ["#1b1b1b", "#2b2b2b", "#f0f0f0", "#1f2a44", "#3a3f47", "#7a7a7a", "#8b1a1a", "#1e5aa8", "#2e6b30",
        "#c9b28f", "#e4572e", "#f2c14e", "#6c3483", "#a3c4dc", "#d96c9a", "#556b2f", "#d9d9d9", "#4b3621",
        "#0f3d3e", "#b03a2e"]
BOTTOMS = ["#1c1c1c", "#2f3b52", "#3d4a63", "#1f2a44", "#4a4a4a", "#6b5b45", "#c2b280", "#7a7a7a", "#0f0f0f",
           "#5b3a29", "#8a8f99", "#23395d"]
SKIN = ["#f1c27d", "#e0ac69", "#c68642", "#8d5524", "#ffdbac", "#5c3a1e", "#d1a27a", "#a86b3c", "#3d2314"]
HAIR = ["#090806", "#2c222b", "#3b3024", "#4e433f", "#6a4e42", "#a7856a", "#b89778", "#dcd0ba", "#8d4a43",
        "#71635a"]
SHOES = ["#111111", "#222222", "#f5f5f5", "#5a3a22", "#333a40", "#7a7a7a"]
HELMETS = ["#111111", "#f2f2f2", "#b22222", "#1e4fa8", "#333333", "#e6c200"]
BAGS = ["#1a1a1a", "#2e2e2e", "#3b2f2f", "#5a3a22", "#1f3a5f", "#7a1f1f", "#556b2f", "#8b7d6b"]
FACADES = ["#b9a48a", "#c8c2b8", "#9c8f80", "#a0522d", "#d8cfc0", "#8a8d91", "#c19a6b", "#e3dccf", "#7b6d63"]
CAR_PAINT = {"#f2f2f0": 0.23, "#141414": 0.2, "#6e7074": 0.17, "#b4b7bb": 0.14, "#1f3f7a": 0.09,
             "#9b1b1b": 0.08, "#8a7560": 0.04, "#2f4f3a": 0.03, "#d9a21b": 0.02}
BIKE_PAINT = ["#111111", "#c0c0c0", "#b22222", "#1e4fa8", "#2e8b57", "#f2f2f2", "#ff8c00"]

# kind -> [(subtype, weight, length, width, height ranges, wheel radius)]
VEHICLE_DIMS = {
    "car": [("sedan", 0.4, (4.4, 4.9), (1.75, 1.85), (1.4, 1.5), 0.31),
            ("hatchback", 0.3, (3.8, 4.3), (1.68, 1.8), (1.45, 1.55), 0.3),
            ("suv", 0.2, (4.4, 4.9), (1.82, 1.95), (1.65, 1.8), 0.36),
            ("estate", 0.1, (4.6, 4.95), (1.78, 1.85), (1.45, 1.52), 0.31)],
    "van": [("panel", 0.6, (4.9, 5.6), (1.95, 2.05), (1.95, 2.5), 0.34),
            ("minibus", 0.4, (5.0, 5.9), (1.95, 2.05), (2.1, 2.6), 0.35)],
    "truck": [("box", 0.6, (6.5, 9.0), (2.3, 2.5), (3.0, 3.6), 0.48),
              ("rigid", 0.4, (6.5, 8.5), (2.3, 2.5), (2.9, 3.4), 0.48)],
    "bus": [("city", 1.0, (10.5, 12.5), (2.5, 2.55), (3.0, 3.2), 0.5)],
    "bicycle": [("city", 0.6, (1.7, 1.8), (0.6, 0.62), (1.05, 1.15), 0.34),
                ("road", 0.4, (1.65, 1.75), (0.45, 0.5), (1.0, 1.1), 0.34)],
    "motorcycle": [("standard", 0.7, (2.0, 2.2), (0.78, 0.85), (1.15, 1.25), 0.31),
                   ("scooter", 0.3, (1.8, 1.95), (0.7, 0.75), (1.1, 1.2), 0.27)],
}


def pick(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def vehicle_dims(kind: str, rng: np.random.Generator) -> tuple[str, tuple[float, float, float, float]]:
    rows = VEHICLE_DIMS[kind]
    w = np.array([r[1] for r in rows])
    sub, _, L, W, H, rw = rows[int(rng.choice(len(rows), p=w / w.sum()))]
    return sub, (float(rng.uniform(*L)), float(rng.uniform(*W)), float(rng.uniform(*H)), float(rw))


def vehicle_color(kind: str, rng: np.random.Generator) -> str:
    if kind in ("bicycle", "motorcycle"):
        return pick(rng, BIKE_PAINT)
    names = list(CAR_PAINT)
    w = np.array(list(CAR_PAINT.values()))
    return names[int(rng.choice(len(names), p=w / w.sum()))]


def bag(style: str, rng: np.random.Generator) -> BagParams:
    if style == "backpack":
        size = [rng.uniform(0.28, 0.34), rng.uniform(0.14, 0.2), rng.uniform(0.38, 0.48)]
    else:
        size = [rng.uniform(0.28, 0.38), rng.uniform(0.1, 0.14), rng.uniform(0.2, 0.3)]
    return BagParams(track_id=0, owner_track_id=0, style=style, color=pick(rng, BAGS),
                     size_m=[float(x) for x in size], hand=str(rng.choice(["left", "right"])))


# ---- people (world/actors/outfits.py): weighted, mostly dark and neutral, some saturated ----------
# (black fabric still reflects 2-5 % of light: the darkest entries are about 0.025 linear, not 0)
CLOTHES = {"#2a2a2a": 0.14, "#363636": 0.1, "#3a3a3a": 0.07, "#5c5c5c": 0.05, "#8c8c8c": 0.04, "#d8d8d4": 0.05,
           "#f2f2ee": 0.05, "#1c2841": 0.09, "#2b3a55": 0.05, "#3f4f2f": 0.04, "#4b3a2a": 0.05, "#6e5a44": 0.03,
           "#b9a27f": 0.04, "#d2c3a3": 0.03, "#7a1f24": 0.03, "#b3262e": 0.02, "#1f5fa6": 0.025, "#6a9bc7": 0.02,
           "#2e6b3f": 0.015, "#e0b52a": 0.015, "#e4672e": 0.01, "#c85a8c": 0.01, "#5b3f7a": 0.01, "#0f4c4c": 0.01}
TROUSERS = {"#2a2a2a": 0.25, "#363636": 0.12, "#1d2535": 0.14, "#4a4a4a": 0.08, "#6b5b45": 0.07, "#b9a27f": 0.07,
            "#3d4a2f": 0.05, "#7a7a7a": 0.05, "#5b3a29": 0.05, "#8a8f99": 0.04, "#f0f0ea": 0.03, "#7a1f24": 0.02,
            "#1f3f7a": 0.03}
DENIM = {"#1d2a44": 0.3, "#2f4468": 0.3, "#4a6590": 0.2, "#6f8bb3": 0.1, "#2c2c2c": 0.1}
HIVIS = {"#d8ec1a": 0.6, "#ff6a13": 0.4}
# skin tones across the human range (Fitzpatrick I-VI), sRGB
SKIN_TONES = {"#f6d7c3": 0.1, "#eec1a0": 0.13, "#e0ac89": 0.13, "#d09a6e": 0.12, "#c08457": 0.11, "#a66d43": 0.1,
              "#8d5a35": 0.09, "#704526": 0.08, "#55331c": 0.07, "#3c2314": 0.07}
GREY_HAIR = ["#8f8a86", "#b5b1ab", "#d8d4cc", "#6e6a66"]
HATS = {"#2a2a2a": 0.35, "#363636": 0.15, "#1c2841": 0.15, "#7a1f24": 0.08, "#8c8c8c": 0.1, "#d8d8d4": 0.07,
        "#3f4f2f": 0.05, "#e0b52a": 0.05}


def weighted(rng: np.random.Generator, table: dict[str, float]) -> str:
    names = list(table)
    w = np.array(list(table.values()), float)
    return names[int(rng.choice(len(names), p=w / w.sum()))]
