"""Recipe -> shard specs and per-clip seeds (DESIGN.md §1, §4).

Seeds come from the recipe seed and the clip index only (numpy SeedSequence), never from worker
identity, time or global RNG state, so any clip or shard can be regenerated alone.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

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


# Recipe fields that name files; a plate folder counts by its plate.yaml (the image's sha256,
# size and calibration)
FILE_FIELDS = (("scene", "layout", "plate"), ("scene", "layout", "sketch"), ("postprocess", "refiner"))
PLATE_YAML = "plate.yaml"


def recipe_sha256(recipe: Recipe, *, by_path: bool = False) -> str:
    """Hash of the resolved recipe (overrides applied), stable across key order and runs: the
    dataset's identity, which resume checks. The files the recipe names (a plate folder, a
    sketch, a refiner; in its mix entries too) count by their contents, so the same recipe read
    from another working directory, or naming a file by another path, has the same hash, and a
    file changed in place gives another. by_path: the paths as spelled, as synthdata hashed them
    before 2026-12-07 (a recipe naming no files hashes the same either way); a dataset made then
    resumes under its hash (runner/submit.py prepare_run)."""
    data = recipe.model_dump(mode="json")
    if not by_path:
        blocks = [data] + [e for e in data.get("mix") or () if isinstance(e, dict)]
        for block in blocks:
            for keys in FILE_FIELDS:
                parent = block
                for k in keys[:-1]:
                    parent = parent.get(k) if isinstance(parent, dict) else None
                if isinstance(parent, dict) and isinstance(parent.get(keys[-1]), str):
                    parent[keys[-1]] = _contents_sha256(parent[keys[-1]])
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _contents_sha256(path: str) -> str:
    """'sha256:<hex>' of the file at `path` (a folder: of its plate.yaml); the path itself when
    it cannot be read (loading the plate or refiner then says what is wrong)."""
    p = Path(path).expanduser()
    p = p / PLATE_YAML if p.is_dir() else p
    try:
        with open(p, "rb") as f:
            return "sha256:" + hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:
        return path


def plan(recipe: Recipe, sha: str | None = None) -> list[ShardSpec]:
    """The recipe's shards in order, each marked with the recipe's hash (`sha`, default
    recipe_sha256)."""
    sha = sha or recipe_sha256(recipe)
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
