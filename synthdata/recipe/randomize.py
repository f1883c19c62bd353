"""Recipe section `scene.randomize`: domain randomisation (Tremblay et al., CVPR-W 2018).

    scene:
      randomize:
        textures: 0.5                                    # shorthand for {p: 0.5}
        distractors: {p: 0.5, count: {randint: [2, 8]}}
        color_cast: {p: 0.3, strength: {uniform: [0.05, 0.25]}}
        lights: {p: 0.3, count: {randint: [1, 3]}}

Each option is drawn once per clip: with probability `p` the clip gets it, and its ranges are
distributions like everywhere else in a recipe. A bare number is the option's `p` with the
defaults below. world/randomize.py draws the clip's values (ClipSpec.randomize) from a stream of
the clip seed of its own, so recipes without this block sample exactly as before.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from synthdata.recipe.distributions import show_value
from synthdata.recipe.types import Choice, Int, Model, Num

DISTRACTOR_KINDS = ("cone", "bin", "crate", "bollard", "pole", "barrier", "sign", "ball", "block", "stand", "chair",
                    "stanchion")
TEXTURE_SURFACES = ("ground", "walls", "vehicles")


def _shorthand(data: Any) -> Any:
    """A bare probability stands for {p: value}."""
    if isinstance(data, (int, float)) and not isinstance(data, bool):
        return {"p": data}
    if not isinstance(data, (dict, BaseModel)):
        raise ValueError(f"expected a probability between 0 and 1 or a block such as {{p: 0.5}}, got {show_value(data)}")
    return data


def _or_probability(schema: dict[str, Any]) -> None:
    """JSON Schema of an option as users may write it: its block, or a bare probability."""
    block = dict(schema)
    schema.clear()
    schema["anyOf"] = [{"type": "number", "minimum": 0, "maximum": 1, "description": "the option's p"}, block]


class Option(Model):
    """One randomisation: the share of clips that get it."""

    model_config = ConfigDict(**Model.model_config, json_schema_extra=_or_probability)
    p: float = Field(0.0, ge=0, le=1, description="probability that a clip gets this randomisation")

    @model_validator(mode="before")
    @classmethod
    def _bare(cls, data: Any) -> Any:
        return _shorthand(data)


class TexturesSpec(Option):
    """Random procedural textures (checks, stripes, blotches, dots, marble) in random colours."""

    surfaces: list[Literal[TEXTURE_SURFACES]] = Field(
        list(TEXTURE_SURFACES), description="which surfaces are retextured: ground, walls (static scenery), vehicles")
    scale_m: Num(0.02, 20) = {"uniform": [0.1, 1.5]}     # the texture's feature size on ground and walls
    contrast: Num(0, 1) = {"uniform": [0.6, 1.0]}        # 1: the texture's colours replace the surface's


class DistractorsSpec(Option):
    """Clutter that is not a person or vehicle: unlabelled static scenery that occludes and casts shadows."""

    count: Int(0, 100) = {"randint": [2, 8]}
    kinds: Choice(*DISTRACTOR_KINDS) = {"choice": list(DISTRACTOR_KINDS)}
    size: Num(0.3, 3) = {"uniform": [0.7, 1.4]}          # scale factor on each kind's usual size
    near_m: Num(0, 200) = 3.0                            # placed from this far in front of the camera
    far_m: Num(1, 500) = 25.0                            # ... to this far

    @model_validator(mode="after")
    def _range(self) -> "DistractorsSpec":
        near, far = self.near_m.bounds(), self.far_m.bounds()
        if near is not None and far is not None and near[1] >= far[0]:
            raise ValueError(f"near_m must be less than far_m, got near_m up to {near[1]:g} and far_m from {far[0]:g}")
        return self


class ColorCastSpec(Option):
    """A tint of all scene light (sun, sky, ambient, lamps)."""

    strength: Num(0, 1) = {"uniform": [0.05, 0.25]}      # how far from white the light's colour moves


class LightsSpec(Option):
    """Extra coloured point lights at random places above the ground."""

    count: Int(0, 16) = {"randint": [1, 3]}
    intensity: Num(0, 500) = {"uniform": [5, 40]}        # irradiance at 1 m, in units of the sun's
    range_m: Num(1, 100) = {"uniform": [8, 20]}
    height_m: Num(0.3, 30) = {"uniform": [2, 6]}


class RandomizeSpec(Model):
    """Domain randomisation options; each left out never applies."""

    textures: TexturesSpec = TexturesSpec()
    distractors: DistractorsSpec = DistractorsSpec()
    color_cast: ColorCastSpec = ColorCastSpec()
    lights: LightsSpec = LightsSpec()

    @property
    def active(self) -> bool:
        """Whether any option can apply to a clip."""
        return any(o.p > 0 for o in (self.textures, self.distractors, self.color_cast, self.lights))
