"""`synthdata inspect`: what a dataset holds, from its tables (counts, distributions, events).

Box heights are of visible boxes (rows with a null box, i.e. fully hidden objects, are counted
apart); visibility covers every object row. Percentiles use linear interpolation (numpy default).
"""
from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from synthdata.io.reader import open_dataset

PERCENTILES = (0, 5, 25, 50, 75, 95, 100)
HEIGHT_EDGES = (0, 8, 16, 32, 64, 128, 256, 512, 1024)        # pixels; the last bin is open-ended
VISIBILITY_EDGES = tuple(round(0.1 * i, 1) for i in range(11))  # 0.0, 0.1, ..., 1.0 (1.0 in last bin)


def _distribution(values: np.ndarray, edges: tuple, *, open_ended: bool) -> dict[str, Any]:
    pct = {f"p{p}": round(float(np.percentile(values, p)), 4) for p in PERCENTILES} if values.size else {}
    bins = list(edges) + ([np.inf] if open_ended else [])
    counts, _ = np.histogram(values, bins=bins)
    labels = [f"{a}-{b}" if b != np.inf else f"{a}+" for a, b in zip(bins[:-1], bins[1:])]
    return {"count": int(values.size), "mean": round(float(values.mean()), 4) if values.size else None,
            "percentiles": pct, "histogram": dict(zip(labels, (int(c) for c in counts)))}


def inspect_dataset(path: str) -> dict[str, Any]:
    """A JSON-ready summary of the dataset at `path` (DatasetError when it is not one)."""
    ds = open_dataset(path)
    m = ds.manifest
    has_camera = "camera" in ds.clips.schema.names
    objects = ds.objects.to_table(columns=["category", "h", "visibility"] + (["camera"] if has_camera else []))
    tracks = ds.tracks.to_table(columns=["category"])
    events = ds.events.to_table(columns=["type"])
    refined = "refiner_sha256" in ds.clips.schema.names         # schema version 3
    clips = ds.clips.to_table(columns=["clip_id", "width", "height", "fps", "num_frames"]
                              + (["camera"] if has_camera else [])
                              + (["refiner_sha256", "refiner_strength"] if refined else [])).to_pylist()
    cats = objects["category"].to_pylist()
    heights = objects["h"].to_numpy(zero_copy_only=False)
    visible = ~np.isnan(heights.astype(np.float64))
    per_cat: dict[str, dict[str, int]] = {}
    track_counts = Counter(tracks["category"].to_pylist())
    obj_counts, vis_counts = Counter(cats), Counter(c for c, v in zip(cats, visible) if v)
    for c in sorted(set(track_counts) | set(obj_counts)):
        per_cat[c] = {"tracks": track_counts[c], "objects": obj_counts[c], "visible_objects": vis_counts[c]}
    vis = objects["visibility"].to_numpy(zero_copy_only=False).astype(np.float64)
    return {
        "path": path,
        "name": m.get("name"),
        "schema_version": m.get("schema_version"),
        "synthdata_version": m.get("synthdata_version"),
        "recipe_sha256": m.get("recipe_sha256"),
        "counts": {"shards": len(m["shards"]), "clips": len({c["clip_id"] for c in clips}), "videos": len(clips),
                   "frames": sum(c["num_frames"] for c in clips), "objects": objects.num_rows,
                   "visible_objects": int(visible.sum()), "tracks": tracks.num_rows,
                   "events": events.num_rows},
        "resolutions": sorted({f"{c['width']}x{c['height']}" for c in clips}),
        "fps": sorted({c["fps"] for c in clips}),
        "categories": per_cat,
        "box_height_px": _distribution(heights[visible].astype(np.float64), HEIGHT_EDGES, open_ended=True),
        "visibility": _distribution(vis[~np.isnan(vis)], VISIBILITY_EDGES, open_ended=False),
        "events": dict(sorted(Counter(events["type"].to_pylist()).items())),
        "modalities": dict(Counter(m for cid, cam in ds.views() for m in ds.modalities(cid, cam))),
        "cameras": _per_camera(clips, objects.to_pylist()),
        "refiners": _refiners(clips),
    }


def _refiners(clips: list[dict]) -> dict[str, int]:
    """Videos by the refiner applied to their frames ("sha256[:12] at strength s", or "none";
    every video of a dataset from before schema version 3 is "none")."""
    found = Counter(refiner_label(c.get("refiner_sha256"), c.get("refiner_strength")) for c in clips)
    return dict(sorted(found.items(), key=lambda kv: (kv[0] != "none", kv[0])))


def refiner_label(sha256: str | None, strength: float | None) -> str:
    """How a clip's refiner is named in summaries: "none", or its sha256's first 12 digits and
    the strength it was applied at."""
    return "none" if sha256 is None else f"{sha256[:12]} at strength {strength:g}"


def _per_camera(clips: list[dict], objects: list[dict]) -> dict[str, dict[str, int]]:
    """camera -> clips it saw, object rows and visible ones (one "cam0" before schema version 3)."""
    out: dict[str, dict[str, int]] = {}
    for c in clips:
        out.setdefault(c.get("camera") or "cam0", {"clips": 0, "objects": 0, "visible_objects": 0})["clips"] += 1
    for o in objects:
        n = out[o.get("camera") or "cam0"]
        n["objects"] += 1
        n["visible_objects"] += o["h"] is not None
    return dict(sorted(out.items()))


def count_noun(count: int, noun: str) -> str:
    """'1 clip', '2 clips'."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _bars(hist: dict[str, int], width: int = 30) -> list[str]:
    top = max(hist.values(), default=0) or 1
    pad = max((len(k) for k in hist), default=0)
    return [f"    {k:>{pad}} {v:>8} {'#' * round(width * v / top)}" for k, v in hist.items()]


def format_summary(s: dict[str, Any]) -> str:
    """The summary as text for a terminal."""
    c = s["counts"]
    lines = [f"{s['name']}  ({s['path']}, schema v{s['schema_version']}, synthdata {s['synthdata_version']})",
             f"  {count_noun(c['shards'], 'shard')}, {count_noun(c['clips'], 'clip')}, "
             f"{count_noun(c['frames'], 'frame')}, {count_noun(c['objects'], 'object row')} "
             f"({c['visible_objects']} visible), {count_noun(c['tracks'], 'track')}, "
             f"{count_noun(c['events'], 'event')}",
             f"  resolution {', '.join(s['resolutions'])} at {', '.join(f'{f:g}' for f in s['fps'])} fps",
             "  modalities: " + ", ".join(f"{k} ({count_noun(v, 'video')})" for k, v in s["modalities"].items()),
             "  cameras: " + ", ".join(f"{k} ({count_noun(v['clips'], 'clip')}, {v['objects']} object rows)"
                                       for k, v in s["cameras"].items()),
             *(["  refiner: " + ", ".join(f"{k} ({count_noun(v, 'video')})" for k, v in s["refiners"].items())]
               if set(s.get("refiners", ())) - {"none"} else []),
             "  per category:        tracks   objects   visible"]
    for cat, n in s["categories"].items():
        lines.append(f"    {cat:<16} {n['tracks']:>9} {n['objects']:>9} {n['visible_objects']:>9}")
    for key, title in (("box_height_px", "visible box height (px)"), ("visibility", "visibility")):
        d = s[key]
        pct = "  ".join(f"{k} {v:g}" for k, v in d["percentiles"].items())
        lines.append(f"  {title}: {d['count']} values{'  ' + pct if pct else ''}")
        lines += _bars(d["histogram"])
    ev = s["events"]
    lines.append("  events: " + (", ".join(f"{k} {v}" for k, v in ev.items()) if ev else "none"))
    return "\n".join(lines)
