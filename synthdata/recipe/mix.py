"""`mix:` recipes: one dataset drawn from several scene recipes with weights, each clip from one.

    name: people_general
    seed: 1
    output: {clips: 400, frames_per_clip: 60, fps: 10, resolution: [640, 480]}
    mix:
      - {weight: 2, recipe: street_plaza.yaml}          # a recipe file, relative to this one
      - weight: 1
        scene: {layout: {type: indoor}, camera: {height_m: 2.2, tilt_deg: 8}}
        actors: [{type: person, count: 6}]               # an inline block

A file entry takes that recipe's scene, actors, zones, events and scenario, and its postprocess
when that sets a refiner (a refiner is made for one camera: a plate entry's clips can be refined
and the others not); its name, seed and output are not used (the mix recipe's output applies to
every clip). An entry's own `postprocess:` (inline, or next to `recipe:`, where it wins over the
file's) sets its clips' refiner; an entry without one takes the mix recipe's postprocess. The
loader reads files (recipe/loader.py `resolve_mix_files`) before validation, so errors in a
sub-recipe point into its own file and a missing file points at the `recipe:` line. Which entry
a clip uses is drawn from the clip's seed on a stream of its own (`Recipe.for_clip`), so adding
draws elsewhere never changes it.
"""
from __future__ import annotations

import numpy as np
from pydantic import ConfigDict, Field, field_validator, model_serializer

from synthdata.recipe.actors import ActorGroup
from synthdata.recipe.postprocess import PostprocessSpec
from synthdata.recipe.scene import SceneSpec
from synthdata.recipe.security import EventsSpec, ScenarioSpec, ZoneSpec, scenario_zone_refs, unique_zones
from synthdata.recipe.types import Model

MIX_KEYS = ("scene", "actors", "zones", "events", "scenario")     # a file entry's scene blocks
MIX_STREAM = 0x313


def _file_key(schema: dict) -> None:
    """JSON Schema of an entry as users write it: `recipe: FILE` too (the loader reads the file)."""
    schema["properties"]["recipe"] = {"type": "string", "description": "a recipe file, relative to this "
                                      "recipe, whose scene, actors, zones, events and scenario (and refiner, "
                                      "if it has one) this entry takes"}


class MixEntry(Model):
    """One component of a mix: a weight and a scene (from a file or inline)."""

    model_config = ConfigDict(**Model.model_config, json_schema_extra=_file_key)

    weight: float = Field(1.0, gt=0, description="relative share of clips drawn from this entry")
    source: str = Field("", description="the recipe file this entry was read from ('' = inline)")
    scene: SceneSpec = SceneSpec()
    actors: list[ActorGroup] = []
    zones: list[ZoneSpec] = []
    events: EventsSpec = EventsSpec()
    scenario: ScenarioSpec = ScenarioSpec()
    postprocess: PostprocessSpec | None = Field(None, description="this entry's clips' refiner (None: the mix "
                                                "recipe's postprocess)")

    _zones = field_validator("zones")(classmethod(unique_zones))
    _scenario = field_validator("scenario")(classmethod(scenario_zone_refs))

    @model_serializer(mode="wrap")
    def _without_default_postprocess(self, handler) -> dict:
        """No `postprocess` key when the entry has none, so a mix without refiners in its entries
        dumps (and hashes: plan.recipe_sha256) as it did before entries could hold one."""
        out = handler(self)
        if isinstance(out, dict) and out.get("postprocess") is None:
            out.pop("postprocess", None)
        return out


def pick_entry(weights: list[float], seed: int) -> int:
    """Index of the mix entry clip `seed` uses (its own random stream)."""
    w = np.asarray(weights, float)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), MIX_STREAM]))
    return int(rng.choice(len(w), p=w / w.sum()))
