"""Resume and the manifest stay linear in the number of shards (bench_scale measures the size).

Filesystem calls are counted on fsspec's memory filesystem while a folder of N committed shard
markers (one shard missing) is resumed and then finished, for N and 4N shards: 4x the shards
must cost at most about 4x the calls (an `exists` per shard inside a loop over shards, or every
marker re-read per shard, would give 16x), and each shard only a few calls.
"""
from __future__ import annotations

import json
import uuid
from collections import Counter

import pytest
from fsspec.implementations.memory import MemoryFileSystem

from synthdata.io.shard import committed_shards, marker_path, shard_files
from synthdata.io.store import store_for
from synthdata.pipeline import finalize_dataset
from synthdata.plan import plan
from synthdata.runner.submit import prepare_run
from tests.fakes import fake_recipe

METHODS = ("cat_file", "ls", "exists", "isdir", "info", "find", "pipe_file", "rm_file", "rm", "put_file",
           "_open")


def _marker(spec) -> dict:
    from synthdata import __version__

    files = {rel: {"size": 1, "sha256": "0" * 64} for rel in shard_files(spec.name)}
    return {"shard": spec.index, "name": spec.name, "synthdata_version": __version__,
            "recipe_sha256": spec.recipe_sha256, "first_clip": spec.first_clip, "num_clips": spec.num_clips,
            "counts": {"clips": 1, "frames": 6, "objects": 0, "tracks": 0, "events": 0},
            "categories": {}, "event_types": {}, "files": files, "timings": {"wall": 0.0}}


def _resume_and_finish(n: int, monkeypatch: pytest.MonkeyPatch) -> int:
    """Filesystem calls of resuming a folder with n - 1 of n shards committed, committing the last
    one and writing dataset.json, as `synthdata run` does."""
    out = f"memory://scale-{uuid.uuid4().hex[:8]}/ds"
    recipe = fake_recipe(clips=n, clips_per_shard=1)
    specs = plan(recipe)
    store = store_for(out)
    for spec in specs[:-1]:
        store.write_atomic(marker_path(spec.name), json.dumps(_marker(spec)).encode())
    store.write_atomic("videos/shard-999999.tar", b"left by an interrupted commit")
    calls: Counter[str] = Counter()
    for name in METHODS:
        original = getattr(MemoryFileSystem, name)

        def counted(self, *a, _name=name, _original=original, **kw):
            calls[_name] += 1
            return _original(self, *a, **kw)

        monkeypatch.setattr(MemoryFileSystem, name, counted)
    try:
        run = prepare_run(recipe, out)
        assert [s.index for s in run.todo] == [n - 1] and len(run.committed) == n - 1
        assert not store_for(out).exists("videos/shard-999999.tar")
        store.write_atomic(marker_path(specs[-1].name), json.dumps(_marker(specs[-1])).encode())
        manifest = finalize_dataset(out, recipe, committed_shards(out))
        assert manifest["counts"]["shards"] == n
    finally:
        monkeypatch.undo()
        MemoryFileSystem().rm(out.removeprefix("memory://").split("/")[0], recursive=True)
    return sum(calls.values())


def test_resume_and_manifest_filesystem_calls_grow_linearly(monkeypatch):
    small = _resume_and_finish(30, monkeypatch)
    large = _resume_and_finish(120, monkeypatch)
    assert large <= 4.5 * small, f"30 shards: {small} calls, 120 shards: {large} calls (quadratic?)"
    assert large / 120 < 8, f"{large / 120:.1f} filesystem calls per shard"
