"""The registry of layout types: `scene.layout.type` in a recipe -> the builder of that Layout.

Each entry names its builder (a world/layout_*.py module: LayoutParams -> Layout, deterministic)
and whether it is indoors (ceiling lights, no weather). A new layout type adds one entry here, its
name to the recipe's LAYOUTS (recipe/scene.py) and its parameter defaults to
world/sample.py LAYOUT_DEFAULTS; tests/test_world_registries.py runs every entry through the same
battery.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from synthdata.world.layouts.base import Layout
from synthdata.world.layouts.indoor import build_indoor
from synthdata.world.layouts.parking import build_parking_lot
from synthdata.world.layouts.plate import build_plate
from synthdata.world.layouts.street import build_street
from synthdata.world.spec import LayoutParams


@dataclass(frozen=True)
class LayoutType:
    name: str
    build: Callable[[LayoutParams], Layout]
    indoor: bool = False


LAYOUTS: dict[str, LayoutType] = {t.name: t for t in (
    LayoutType("parking_lot", build_parking_lot),
    LayoutType("street", build_street),
    LayoutType("indoor", build_indoor, indoor=True),
    LayoutType("plate", build_plate),
)}


def build_layout(params: LayoutParams) -> Layout:
    """The deterministic static layout for these parameters."""
    if params.type not in LAYOUTS:
        raise ValueError(f"unknown layout type {params.type!r}; expected one of {sorted(LAYOUTS)}")
    return LAYOUTS[params.type].build(params)
