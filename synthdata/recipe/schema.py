"""The recipe: validated user input describing a dataset (DESIGN.md §1)."""
from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from synthdata.recipe.actors import ActorGroup
from synthdata.recipe.json_schema import SCHEMA_DIALECT, distribution_defs, resolve_refs
from synthdata.recipe.mix import MIX_KEYS, MixEntry, pick_entry
from synthdata.recipe.postprocess import PostprocessSpec
from synthdata.recipe.scene import SceneSpec
from synthdata.recipe.security import EventsSpec, ScenarioSpec, ZoneSpec, scenario_zone_refs, unique_zones
from synthdata.recipe.types import Model


class VideoSpec(Model):
    codec: Literal["h264"] = "h264"
    crf: int = Field(23, ge=0, le=51)
    preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"] = "veryfast"
    gop: int = Field(0, ge=0, description="keyframe interval in frames; 0 = 2 seconds")


Modality = Literal["rgb", "depth", "flow", "backflow", "instances", "classes"]   # labels/dense.py


class OutputSpec(Model):
    clips: int = Field(..., ge=1)
    clips_per_shard: int = Field(16, ge=1)
    frames_per_clip: int = Field(..., ge=1, le=100_000)
    fps: float = Field(..., gt=0, le=240)
    resolution: tuple[int, int]
    video: VideoSpec = VideoSpec()
    masks: bool = True
    modalities: list[Modality] = Field(["rgb"], description="per-frame outputs: rgb (the video, always "
                                       "written) and any of depth, flow, backflow, instances, classes")
    chunk_frames: int | None = Field(None, ge=1, description="frames rendered at once (bounds memory); "
                                                           "default: about 4 megapixels' worth")

    @property
    def frames_per_chunk(self) -> int:
        """Frames rendered, labelled and encoded at once: chunk_frames, or by default as many as
        make about 4 million pixels (13 at 640x480, 4 at 1280x720), between 2 and 64. Smaller
        chunks keep a shard's encoder and helper thread fed sooner and leave less to encode after
        the last frame renders; at 10 million (the default before) the same shards took 5-15 %
        longer (benchmarks/README.md)."""
        if self.chunk_frames:
            return self.chunk_frames
        w, h = self.resolution
        return max(2, min(64, 4_000_000 // (w * h)))

    @field_validator("modalities")
    @classmethod
    def _modalities(cls, v: list[str]) -> list[str]:
        order = ["rgb", "depth", "flow", "backflow", "instances", "classes"]
        return [m for m in order if m in set(v) or m == "rgb"]

    @property
    def dense_modalities(self) -> list[str]:
        """The modalities stored beside the video (all but rgb), in canonical order."""
        return [m for m in self.modalities if m != "rgb"]

    @field_validator("resolution")
    @classmethod
    def _even(cls, v: tuple[int, int]) -> tuple[int, int]:
        w, h = v
        if not (16 <= w <= 8192 and 16 <= h <= 8192) or w % 2 or h % 2:
            raise ValueError(f"expected [width, height], even numbers between 16 and 8192, got {list(v)}")
        return v


RECIPE_VERSION = 1


class Recipe(Model):
    """A whole recipe. Keys every recipe has: name, seed, output (DESIGN.md §5)."""

    version: int = Field(RECIPE_VERSION, description="recipe format version; this synthdata reads 1")
    name: str
    description: str = ""
    seed: int = Field(..., ge=0, lt=2**63)
    output: OutputSpec
    scene: SceneSpec = SceneSpec()
    actors: list[ActorGroup] = []
    zones: list[ZoneSpec] = []              # security zones and tripwires (recipe/security.py)
    events: EventsSpec = EventsSpec()       # event thresholds
    scenario: ScenarioSpec = ScenarioSpec()  # scripted security behaviours
    postprocess: PostprocessSpec = PostprocessSpec()   # a learned refiner (refine/)
    mix: list[MixEntry] = []                # each clip from one weighted entry (recipe/mix.py)

    @field_validator("mix")
    @classmethod
    def _mix(cls, v: list[MixEntry], info: ValidationInfo) -> list[MixEntry]:
        if v and (info.data.get("actors") or info.data.get("zones")):
            raise ValueError("a mix recipe takes its scene, actors and zones from its entries; move the "
                             "top-level actors/zones into a mix entry")
        return v

    def for_clip(self, seed: int) -> tuple["Recipe", int | None]:
        """The recipe clip `seed` is drawn from: itself, or its mix entry's scene blocks (and
        postprocess, if the entry has one) under this recipe's name, seed and output; and the
        entry's index (None without a mix)."""
        if not self.mix:
            return self, None
        k = pick_entry([e.weight for e in self.mix], seed)
        entry = self.mix[k]
        own = {"postprocess": entry.postprocess} if entry.postprocess is not None else {}
        return self.model_copy(update={key: getattr(entry, key) for key in MIX_KEYS} | own | {"mix": []}), k

    _zones = field_validator("zones")(classmethod(unique_zones))
    _scenario = field_validator("scenario")(classmethod(scenario_zone_refs))

    @field_validator("version")
    @classmethod
    def _version(cls, v: int) -> int:
        if v != RECIPE_VERSION:
            raise ValueError(f"unsupported recipe version {v}; this synthdata reads version "
                             f"{RECIPE_VERSION} recipes")
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", v):
            raise ValueError(f"expected letters, digits, '-' or '_' (no dots or spaces, at most 64), "
                             f"got {v!r}")
        return v

    @property
    def num_shards(self) -> int:
        return -(-self.output.clips // self.output.clips_per_shard)


def recipe_json_schema() -> dict[str, Any]:
    """The whole recipe's JSON Schema (draft 2020-12), from the models above (`synthdata schema`)."""
    body = Recipe.model_json_schema()
    body["$defs"] = {**body.get("$defs", {}), **distribution_defs()}
    body = resolve_refs(body)
    return {"$schema": SCHEMA_DIALECT, "title": "synthdata recipe",
            "description": "A synthdata recipe (README.md, Recipes). Wherever a number or a choice "
                           "may vary, a distribution such as {uniform: [a, b]} is allowed.",
            **{k: v for k, v in body.items() if k not in ("title", "description")}}
