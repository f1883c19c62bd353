"""Recipe -> shard specs and per-clip seeds (DESIGN.md §1, §4).

Seeds come from the recipe seed and the clip index only (numpy SeedSequence), never from worker
identity, time or global RNG state, so any clip or shard can be regenerated alone.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import numpy as np

from synthdata.recipe.schema import Recipe


@dataclass(frozen=True)
class ShardSpec:
    """One unit of work: clips [first_clip, first_clip + num_clips) of the recipe."""

    index: int
    first_clip: int
    num_clips: int
    recipe_sha256: str

    @property
    def name(self) -> str:
        return f"shard-{self.index:06d}"

    @property
    def clip_indices(self) -> range:
        return range(self.first_clip, self.first_clip + self.num_clips)

    def to_json(self) -> dict:
        return asdict(self)


def recipe_sha256(recipe: Recipe) -> str:
    """Hash of the resolved recipe (overrides applied), stable across key order and runs."""
    text = json.dumps(recipe.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def plan(recipe: Recipe) -> list[ShardSpec]:
    sha = recipe_sha256(recipe)
    per = recipe.output.clips_per_shard
    n = recipe.output.clips
    return [ShardSpec(i, start, min(per, n - start), sha) for i, start in enumerate(range(0, n, per))]


def clip_seed(recipe_seed: int, clip_index: int) -> int:
    """A 63-bit seed for one clip, a pure function of the recipe seed and the clip index."""
    ss = np.random.SeedSequence(entropy=recipe_seed, spawn_key=(clip_index,))
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


def clip_id(recipe: Recipe, clip_index: int) -> str:
    """WebDataset-safe key (no dots): '<name>-<index:06d>'."""
    return f"{recipe.name}-{clip_index:06d}"
