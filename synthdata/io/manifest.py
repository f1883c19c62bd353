"""dataset.json: the manifest written last, once every shard is committed (DESIGN.md §3).

A folder is a finished dataset exactly when its dataset.json exists; it lists every shard's files
with sizes and sha256, the totals, the categories and the generation timings.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from synthdata.errors import DatasetError
from synthdata.io.contract import READABLE_VERSIONS, SCHEMA_VERSION, TABLES
from synthdata.io.shard import MARKER_DIR
from synthdata.io.store import TMP_DIR, Store, store_for

MANIFEST = "dataset.json"
RECIPE_FILE = "recipe.yaml"
COUNTS = ("clips", "frames", "objects", "tracks", "events")


def finalize(out: str, markers: Mapping[int, dict] | Iterable[dict], *, name: str, num_shards: int,
             recipe_sha256: str, recipe_text: str, timings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Write recipe.yaml (`recipe_text`, the resolved recipe as run), then dataset.json (last,
    atomically) from the markers of shards 0..num_shards-1 of the recipe with hash
    `recipe_sha256`; returns the manifest. Refuses (ValueError) a missing or foreign shard."""
    from synthdata import __version__

    ms = sorted(markers.values() if isinstance(markers, Mapping) else markers, key=lambda m: m["shard"])
    sha = recipe_sha256
    have = [m["shard"] for m in ms]
    if have != list(range(num_shards)):
        raise ValueError(f"{out}: finalize needs shards 0..{num_shards - 1} committed, got {have}")
    foreign = [m["shard"] for m in ms if m.get("recipe_sha256") != sha]
    if foreign:
        raise ValueError(f"{out}: shards {foreign} were made from a different recipe")
    counts = {k: sum(m["counts"][k] for m in ms) for k in COUNTS}
    counts = {"shards": len(ms), **counts}
    cats: dict[str, Counter] = {}
    events: Counter = Counter()
    stage: Counter = Counter()
    for m in ms:
        for cat, c in m.get("categories", {}).items():
            cats.setdefault(cat, Counter()).update(c)
        events.update(m.get("event_types", {}))
        stage.update({k: v for k, v in m.get("timings", {}).items() if k != "wall"})
    manifest = {
        "name": name,
        "schema_version": SCHEMA_VERSION,
        "synthdata_version": __version__,
        "recipe_sha256": sha,
        "recipe": RECIPE_FILE,
        "categories": sorted(cats),
        "counts": counts,
        "category_counts": {c: dict(sorted(v.items())) for c, v in sorted(cats.items())},
        "event_types": dict(sorted(events.items())),
        "tables": {t: f"tables/{t}" for t in TABLES},
        "shards": [{"shard": m["shard"], "name": m["name"], "first_clip": m["first_clip"],
                    "num_clips": m["num_clips"], "counts": m["counts"], "files": m["files"]} for m in ms],
        "timings": {"run": dict(timings or {}),
                    "stages_s": {k: round(v, 3) for k, v in sorted(stage.items())}},
    }
    store = store_for(out)
    store.write_atomic(RECIPE_FILE, recipe_text.encode())
    store.write_atomic(MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())
    store.prune(TMP_DIR)
    return manifest


def read_manifest(out: str | Store) -> dict[str, Any]:
    """The manifest of a finished dataset; DatasetError (one line) when `out` is not one."""
    store = out if isinstance(out, Store) else store_for(out)
    where = store.url
    if not store.exists(MANIFEST):
        if not store.isdir():
            raise DatasetError(f"{where}: no such dataset folder")
        if store.list(MARKER_DIR):
            raise DatasetError(f"{where}: not a finished dataset (no dataset.json): the run that made it "
                               f"stopped early; rerun `synthdata run` with --out {where} to resume")
        raise DatasetError(f"{where}: not a synthdata dataset (no dataset.json)")
    try:
        manifest = json.loads(store.read_bytes(MANIFEST))
    except (OSError, ValueError) as e:
        raise DatasetError(f"{where}/{MANIFEST}: unreadable: {e}") from None
    if not isinstance(manifest, dict) or "shards" not in manifest:
        raise DatasetError(f"{where}/{MANIFEST}: not a synthdata manifest (no 'shards')")
    version = manifest.get("schema_version")
    if version not in READABLE_VERSIONS:
        raise DatasetError(f"{where}: dataset schema version {version}; this synthdata reads "
                           f"versions {', '.join(map(str, READABLE_VERSIONS))}")
    return manifest
