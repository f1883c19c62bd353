"""Person re-identification crops in the Market-1501 layout.

    OUT/bounding_box_train/0001_c1s1_000012_01.jpg   training identities
    OUT/bounding_box_test/0002_c2s1_000020_01.jpg    gallery of the test identities
    OUT/query/0002_c1s1_000012_01.jpg                one query per test identity and camera
    OUT/crops.csv                                    file, pid, clip_id, track_id, camera, frame, x, y, w, h, visibility

Names are `{pid:04d}_c{cam}s1_{frame:06d}_{n:02d}.jpg` as Market-1501 has them (torchreid and
fast-reid read `([-\\d]+)_c(\\d)` from them): pid is the person's identity, numbered 1.. over the
people of the exported clips, clip by clip in track-id order (a track id is one person in every
camera of its clip, and clips are separate scenes; a person without a kept crop leaves a gap), cam the 1-based camera number among the dataset's camera names
sorted (at most 9: one digit), s1 the one sequence, frame the clip's 0-based frame, n 01 (one
box per person, camera and frame).

A crop is the person's visible box (the extent of their pixels) cut from the decoded frame, taken
every --frame-step frames, kept when its visibility is at least --min-visibility and its height at
least --min-height pixels. Identities are split between train and test by a hash of
"clip_id/track_id" (--test-fraction of them in test, Market-1501 has half), so no identity is on
both sides and a person's split does not depend on which clips are exported. Of each test identity
seen by at least two cameras, the most visible crop from each camera (earliest on ties) becomes
its query there unless that would leave the query without a gallery crop of the person from another
camera (then it stays in the gallery); the rest is the gallery, so every query has a cross-camera
match, as Market-1501's evaluation needs.
"""
from __future__ import annotations

import csv
import hashlib
import os
from collections import Counter, defaultdict
from typing import Any

from synthdata.errors import BadInput
from synthdata.export.base import Exporter
from synthdata.export.source import ExportSource, visible_box
from synthdata.export.writers import JpegWriter

TRAIN, TEST, QUERY = "bounding_box_train", "bounding_box_test", "query"
MAX_CAMERAS = 9


def split_of(clip_id: str, track_id: int, test_fraction: float) -> str:
    """'test' or 'train' for one identity, from a hash of "clip_id/track_id"."""
    h = int.from_bytes(hashlib.sha256(f"{clip_id}/{track_id}".encode()).digest()[:8], "big") / 2.0**64
    return "test" if h < test_fraction else "train"


def crop_name(pid: int, cam: int, frame: int, n: int = 1) -> str:
    return f"{pid:04d}_c{cam}s1_{frame:06d}_{n:02d}.jpg"


def crop_box(box: tuple[float, float, float, float], width: int, height: int) -> tuple[int, int, int, int] | None:
    """Integer pixel bounds (x0, y0, x1, y1) of a visible box, clipped to the image."""
    x, y, w, h = box
    x0, y0 = max(int(round(x)), 0), max(int(round(y)), 0)
    x1, y1 = min(int(round(x + w)), width), min(int(round(y + h)), height)
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


class ReidExporter(Exporter):
    name = "reid"
    description = "Market-1501 person crops: bounding_box_train/test and query, {pid}_c{cam}s1_{frame}_{n}.jpg"
    options = ("min_height", "frame_step", "test_fraction")

    def export(self, source: ExportSource, out: str) -> dict[str, Any]:
        opts = source.options
        ds = source.dataset
        cams = ds.cameras()
        if len(cams) > MAX_CAMERAS:
            raise BadInput(f"--format reid: Market-1501 names hold one camera digit; the dataset has "
                           f"{len(cams)} cameras ({', '.join(cams)}), at most {MAX_CAMERAS} fit")
        for d in (TRAIN, TEST, QUERY):
            os.makedirs(os.path.join(out, d))
        counts = {"crops": 0, "identities": 0, "train_identities": 0, "test_identities": 0, "queries": 0,
                  "too_small": 0}
        table: list[list[Any]] = []
        next_pid = 1
        with JpegWriter(quality=opts.jpeg_quality, workers=opts.workers) as jpegs:
            for cid in source.clip_ids if "person" in source.categories else []:
                people = sorted(int(t["track_id"]) for t in ds.tracks_for(cid, columns=["track_id", "category"])
                                .to_pylist() if t["category"] == "person")
                pids = {t: next_pid + i for i, t in enumerate(people)}      # numbered per clip, in order
                next_pid += len(people)
                crops = [c for cam in ds.cameras(cid) for c in self._crops(source, source.clip(cid, cam), counts)]
                queries = _choose_queries(crops)
                for c in crops:
                    folder = QUERY if id(c) in queries else (TEST if c["split"] == "test" else TRAIN)
                    pid = pids[c["track_id"]]
                    name = crop_name(pid, c["cam"], c["frame"])
                    jpegs.write(c.pop("pixels"), os.path.join(out, folder, name))
                    x0, y0, x1, y1 = c["box"]
                    table.append([f"{folder}/{name}", pid, cid, c["track_id"], c["camera"], c["frame"],
                                  x0, y0, x1 - x0, y1 - y0, c["visibility"]])
                seen = {c["track_id"]: c["split"] for c in crops}
                counts["identities"] += len(seen)
                counts["train_identities"] += sum(v == "train" for v in seen.values())
                counts["test_identities"] += sum(v == "test" for v in seen.values())
                counts["queries"] += len(queries)
                counts["crops"] += len(crops)
        with open(os.path.join(out, "crops.csv"), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["file", "pid", "clip_id", "track_id", "camera", "frame", "x", "y", "w", "h", "visibility"])
            w.writerows(sorted(table))
        return counts

    @staticmethod
    def _crops(source: ExportSource, clip: Any, counts: dict[str, int]) -> list[dict[str, Any]]:
        """The kept person crops of one camera's video: every --frame-step frames, at least
        --min-height pixels tall (rows under --min-visibility are already left out)."""
        opts = source.options
        wanted = {f: [r for r in rows if r["category"] == "person" and visible_box(r) is not None]
                  for f, rows in enumerate(clip.objects) if f % opts.frame_step == 0}
        last = max((f for f, rows in wanted.items() if rows), default=-1)
        cam = source.camera_number(clip.camera)
        out: list[dict[str, Any]] = []
        if last < 0:
            return out
        for f, rgb in clip.frames():
            for row in wanted.get(f, []):
                box = crop_box(visible_box(row), clip.width, clip.height)
                if box is None or box[3] - box[1] < opts.min_height:
                    counts["too_small"] += 1
                    continue
                x0, y0, x1, y1 = box
                tid = int(row["track_id"])
                out.append({"track_id": tid, "split": split_of(clip.clip_id, tid, opts.test_fraction), "cam": cam,
                            "camera": clip.camera, "frame": f, "box": box,
                            "visibility": round(float(row["visibility"] or 0.0), 5),
                            "pixels": rgb[y0:y1, x0:x1].copy()})
            if f >= last:
                break
        return out


def _choose_queries(crops: list[dict[str, Any]]) -> set[int]:
    """ids of the crops that become queries. Per test identity seen by two or more cameras, the most
    visible crop of each camera (the earliest frame on ties) is a query candidate; while a candidate
    has no gallery crop of its identity in another camera, the lowest-numbered such camera's
    candidate goes back to the gallery (which may give the others their match)."""
    best: dict[tuple[int, int], dict[str, Any]] = {}
    per_id: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for c in crops:
        if c["split"] != "test":
            continue
        per_id[c["track_id"]].append(c)
        k = (c["track_id"], c["cam"])
        if k not in best or c["visibility"] > best[k]["visibility"]:
            best[k] = c
    queries: set[int] = set()
    for tid, own in per_id.items():
        chosen = {cam: c for (t, cam), c in best.items() if t == tid}
        if len(chosen) < 2:
            continue
        while True:
            gallery = Counter(c["cam"] for c in own if id(c) not in {id(q) for q in chosen.values()})
            lonely = sorted(cam for cam in chosen if not any(n for g, n in gallery.items() if g != cam))
            if not lonely:
                break
            del chosen[lonely[0]]
        queries |= {id(c) for c in chosen.values()}
    return queries
