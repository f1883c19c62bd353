"""The numbers of a report, all aggregated in DuckDB over the dataset's tables.

Conventions (as `synthdata inspect`): box heights are of visible boxes (rows whose box is null are
fully hidden objects); an object row is fully hidden when its visible box is null or its
visibility is 0. Frames are 0-based; objects per frame counts every frame of every clip, frames
without any object row included.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from synthdata.io.inspect import refiner_label
from synthdata.io.reader import Dataset
from synthdata.report.tables import Histogram, columns, histogram, integer_edges, rows, scalar

HEIGHT_EDGES = [0.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0]   # pixels, last bin open-ended
UNIT_EDGES = [round(0.1 * i, 1) for i in range(11)]                      # visibility, truncation
DEPTH_EDGES = [0.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 50.0, 75.0, 100.0]  # metres, last bin open-ended
HIDDEN = "(h IS NULL OR visibility = 0)"


@dataclass
class CategoryCounts:
    tracks: int = 0
    objects: int = 0
    visible_objects: int = 0
    hidden_objects: int = 0      # box null or visibility 0
    tiny_boxes: int = 0          # visible boxes under `tiny_px` in width or height


@dataclass
class EventSpan:
    clip_id: str
    type: str
    start_frame: int
    end_frame: int


@dataclass
class Stats:
    """Everything the report shows except coverage plots and sample frames."""

    counts: dict[str, int]
    categories: dict[str, CategoryCounts]
    histograms: dict[str, Histogram]
    events_per_type: dict[str, int]
    timeline_clips: list[tuple[str, int]]          # (clip_id, num_frames) of the clips shown
    event_clip_count: int                          # clips with at least one event
    timeline: list[EventSpan]
    empty_clips: list[str]
    empty_clip_count: int
    resolutions: dict[str, int]
    fps: dict[str, int]
    tiny_px: float
    refiners: dict[str, int] = field(default_factory=dict)    # clips by the refiner that made them ("none")
    extra: dict[str, Any] = field(default_factory=dict)


def compute_stats(con: Any, ds: Dataset, *, tiny_px: float = 4.0, timeline_clips: int = 30) -> Stats:
    counts = _counts(con, ds)
    cats = _categories(con, tiny_px)
    hists = {
        "box_height": histogram(con, Histogram("box_height", "Visible box height", "px", HEIGHT_EDGES, True),
                                "objects", "h", series="category"),
        "visibility": histogram(con, Histogram("visibility", "Visibility", "visible / amodal pixels",
                                               UNIT_EDGES, False), "objects", "visibility", series="category"),
        "truncation": histogram(con, Histogram("truncation", "Truncation", "share outside the image",
                                               UNIT_EDGES, False), "objects", "truncation", series="category"),
        "depth": histogram(con, Histogram("depth", "Depth", "m", DEPTH_EDGES, True), "objects", "depth",
                           series="category"),
    }
    hists["objects_per_frame"] = _objects_per_frame(con, counts["frames"])
    top = scalar(con, "SELECT max(coalesce(num_frames, last_frame - first_frame + 1)) FROM tracks") or 1
    hists["track_length"] = histogram(
        con, Histogram("track_length", "Track length", "frames", integer_edges(top), True, integer=True), "tracks",
        "coalesce(num_frames, last_frame - first_frame + 1)", series="category")
    events = dict(rows(con, "SELECT type, count(*) FROM events GROUP BY type ORDER BY type"))
    shown = rows(con, "SELECT c.clip_id, c.num_frames FROM clips c WHERE c.clip_id IN "
                      "(SELECT DISTINCT clip_id FROM events) ORDER BY c.clip_id LIMIT ?", [timeline_clips])
    spans = [EventSpan(*r) for r in rows(
        con, "SELECT clip_id, type, start_frame, end_frame FROM events WHERE clip_id IN "
             "(SELECT DISTINCT clip_id FROM events ORDER BY clip_id LIMIT ?) ORDER BY clip_id, event_id",
        [timeline_clips])]
    empty = rows(con, "SELECT clip_id FROM clips WHERE clip_id NOT IN (SELECT DISTINCT clip_id FROM objects) "
                      "ORDER BY clip_id")
    res = rows(con, "SELECT width || 'x' || height, count(*) FROM clips GROUP BY 1 ORDER BY 1")
    fps = rows(con, "SELECT fps, count(*) FROM clips GROUP BY 1 ORDER BY 1")
    return Stats(counts=counts, categories=cats, histograms=hists, events_per_type=events,
                 timeline_clips=[(str(c), int(n)) for c, n in shown], timeline=spans,
                 event_clip_count=int(scalar(con, "SELECT count(DISTINCT clip_id) FROM events")),
                 empty_clips=[r[0] for r in empty[:20]], empty_clip_count=len(empty),
                 resolutions={str(k): int(v) for k, v in res}, fps={f"{k:g}": int(v) for k, v in fps},
                 tiny_px=tiny_px, refiners=_refiners(con, counts["clips"]))


def _refiners(con: Any, clips: int) -> dict[str, int]:
    """Clips by the refiner applied to their frames: its sha256 (12 digits) and strength, or
    "none" (every clip of a dataset from before schema version 3)."""
    if "refiner_sha256" not in columns(con, "clips"):
        return {"none": clips} if clips else {}
    found = rows(con, "SELECT refiner_sha256, refiner_strength, count(*) FROM clips GROUP BY 1, 2 "
                      "ORDER BY 1 NULLS FIRST, 2")
    return {refiner_label(sha, strength): int(n) for sha, strength, n in found}


def _counts(con: Any, ds: Dataset) -> dict[str, int]:
    clips, frames = rows(con, "SELECT count(*), coalesce(sum(num_frames), 0) FROM clips")[0]
    objects, visible, hidden = rows(con, f"SELECT count(*), count(h), count(*) FILTER (WHERE {HIDDEN}) "
                                         f"FROM objects")[0]
    return {"shards": len(ds.manifest.get("shards", [])), "clips": int(clips), "frames": int(frames),
            "objects": int(objects), "visible_objects": int(visible), "hidden_objects": int(hidden),
            "tracks": int(scalar(con, "SELECT count(*) FROM tracks")),
            "events": int(scalar(con, "SELECT count(*) FROM events"))}


def _categories(con: Any, tiny_px: float) -> dict[str, CategoryCounts]:
    out: dict[str, CategoryCounts] = {}
    for cat, n in rows(con, "SELECT category, count(*) FROM tracks GROUP BY 1"):
        out.setdefault(cat, CategoryCounts()).tracks = int(n)
    tiny = f"h IS NOT NULL AND (w < {float(tiny_px)!r} OR h < {float(tiny_px)!r})"
    for cat, n, vis, hid, tin in rows(con, f"SELECT category, count(*), count(h), count(*) FILTER (WHERE {HIDDEN}), "
                                           f"count(*) FILTER (WHERE {tiny}) FROM objects GROUP BY 1"):
        c = out.setdefault(cat, CategoryCounts())
        c.objects, c.visible_objects, c.hidden_objects, c.tiny_boxes = int(n), int(vis), int(hid), int(tin)
    return dict(sorted(out.items()))


def _objects_per_frame(con: Any, frames: int) -> Histogram:
    """Objects per frame over every frame; frames without object rows count in the 0 bin."""
    key = "clip_id, camera, frame" if "camera" in columns(con, "objects") else "clip_id, frame"   # a frame of one video
    top = scalar(con, f"SELECT max(n) FROM (SELECT count(*) AS n FROM objects GROUP BY {key})") or 0
    hist = Histogram("objects_per_frame", "Objects per frame", "object rows", integer_edges(top), True,
                     integer=True)
    histogram(con, hist, f"(SELECT count(*) AS n FROM objects GROUP BY {key})", "n")
    series = hist.counts.setdefault("all", [0] * hist.num_bins)
    series[0] += frames - sum(series)
    return hist
