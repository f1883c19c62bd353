"""One clip's drawn domain randomisation (recipe `scene.randomize`), as ClipSpec.randomize holds it.

Plain JSON-friendly values: colours are linear RGB triples in 0..1, positions metres in the
world frame, yaw radians. Pattern kinds are render/patterns.py PATTERNS indices (world/ names them
by number, world/randomize.py TEXTURE_KINDS). world/randomize.py draws these and applies them in
`simulate`; render/ only reads the resulting geometry, lights and textures.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TextureParams:
    """A procedural texture: the surface shows `color` and `color2` mixed by the pattern, blended
    over its own albedo by `contrast` (1: the texture's colours only)."""

    pattern: int
    color: list[float]
    color2: list[float]
    scale_m: float
    contrast: float
    seed: int


@dataclass
class VehicleTexture:
    """A texture on one vehicle's painted body panels."""

    track_id: int
    texture: TextureParams


@dataclass
class DistractorParams:
    """A piece of unlabelled clutter standing on the ground (world/randomize.py DISTRACTORS)."""

    kind: str
    xy: list[float]
    yaw: float
    scale: float
    color: list[float]


@dataclass
class LightParams:
    """An extra omni light."""

    position: list[float]
    color: list[float]
    intensity: float
    range_m: float


@dataclass
class RandomizeParams:
    """Everything `scene.randomize` drew for one clip; empty fields: that option did not apply."""

    applied: list[str] = field(default_factory=list)     # the options this clip got, in recipe order
    ground: TextureParams | None = None
    walls: TextureParams | None = None
    vehicles: list[VehicleTexture] = field(default_factory=list)
    distractors: list[DistractorParams] = field(default_factory=list)
    color_cast: list[float] | None = None                # per-channel gains on every light's colour
    lights: list[LightParams] = field(default_factory=list)
