"""Recipe sections describing the scene: layout, camera and lighting."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from synthdata.recipe.types import Choice, Model, Num

LAYOUTS = ("parking_lot", "street", "indoor")


class LayoutSpec(Model):
    """Static scene geometry. Sizes in metres; counts may be distributions."""

    type: Choice(*LAYOUTS) = "parking_lot"
    size_m: tuple[float, float] | None = Field(None, description="ground extent (x, y); default per type")


class CameraSpec(Model):
    """An elevated CCTV camera looking into the layout."""

    height_m: Num(0.5, 60) = 6.0
    tilt_deg: Num(0, 90) = 35.0
    pan_deg: Num(-180, 180) = 0.0
    roll_deg: Num(-45, 45) = 0.0
    hfov_deg: Num(10, 179) = 60.0
    model: Choice("pinhole", "fisheye") = "pinhole"
    k1: Num(-1, 1) = 0.0
    k2: Num(-1, 1) = 0.0
    distance_m: Num(0, 200) = 2.0   # how far outside the layout's near edge the camera stands


class LightingSpec(Model):
    time_of_day: Choice("day", "dusk", "night") = "day"
    sun_elevation_deg: Num(1, 90) = 45.0
    sun_azimuth_deg: Num(-360, 360) = 135.0
    exposure: Num(0.05, 20) = 1.0


class SceneSpec(Model):
    layout: LayoutSpec = LayoutSpec()
    camera: CameraSpec = CameraSpec()
    lighting: LightingSpec = LightingSpec()
