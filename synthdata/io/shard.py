"""Writing one shard and committing it atomically (DESIGN.md §3).

    with ShardWriter(out, shard, VideoSettings(crf=23)) as w:
        for clip in clips:
            w.add_clip(clip)      # a ClipRecord: frames stream to the encoder, rows accumulate
        marker = w.commit()

A shard's files are made in a staging folder, moved into place, and only then is its marker
`_shards/shard-NNNNNN.json` written, atomically: a shard is committed exactly when its marker
exists. Anything that fails earlier leaves no marker; `clean_leftovers` removes what it left.
The same inputs give byte-identical tar and Parquet files (the marker also records timings).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections import Counter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from synthdata.io import dense as D
from synthdata.io import tables as T
from synthdata.io.contract import SCHEMA_VERSION, TABLES, dumps, file_metadata
from synthdata.io.records import ClipRecord, FrameChunk, ShardRef, VideoSettings
from synthdata.io.store import TMP_DIR, digest, store_for
from synthdata.io.tar import TarShardWriter
from synthdata.io.video import VideoEncoder

MARKER_DIR = "_shards"
SHARD_FILE = re.compile(r"shard-(\d{6})\.(?:tar|parquet|json)")


def shard_files(name: str) -> list[str]:
    """Paths, relative to OUT, of the data files of the shard called `name` (shard-NNNNNN)."""
    return [f"videos/{name}.tar"] + [f"tables/{t}/{name}.parquet" for t in TABLES]


def marker_path(name: str) -> str:
    return f"{MARKER_DIR}/{name}.json"


class ShardWriter:
    """Writes the clips of one shard under `out` (a local path or fsspec URL), encoding every
    clip's video with `video`.

    `add_clip(ClipRecord)` consumes the clip's frame chunks; `commit()` publishes the shard and
    returns its marker (files, sizes, sha256, row counts, timings). Leaving the `with` block
    without a commit (an exception, or no call) discards the shard: nothing becomes visible.
    """

    def __init__(self, out: str, shard: ShardRef, video: VideoSettings, *, synthdata_version: str | None = None):
        from synthdata import __version__

        self.store = store_for(out)
        self.shard, self.video = shard, video
        self.name: str = shard.name
        self.version = synthdata_version or __version__
        self._work: str | None = None
        self._tar: TarShardWriter | None = None
        self._clips: list[dict] = []
        self._tracks: list[dict] = []
        self._events: list[dict] = []
        self._objects: list[tuple[str, pa.Table]] = []
        self._timings: Counter[str] = Counter()
        self._frames = 0
        self._t0 = time.perf_counter()
        self.marker: dict[str, Any] | None = None
        # (encoder, clips row, key, mp4 path, pngs, timings) of the last view
        self._pending: tuple | None = None

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.marker is None:
            self.abort()

    def _workdir(self) -> str:
        if self._work is None:
            self._work = self.store.staging_dir(self.name)
            self._tar = TarShardWriter(os.path.join(self._work, f"{self.name}.tar"))
        return self._work

    def add_clip(self, clip: ClipRecord) -> dict[str, Any]:
        """Encode the clip's frames (each camera's, for a clip with views) and keep its rows;
        returns a small summary of the clip (video sizes are in the marker `commit` returns).

        The encoder works on a thread of its own (io/video.py), and a view's last chunk is still
        being encoded when this returns: the view is finished (its video closed and put in the
        tar) once the next view has handed over its first chunk, or by `commit`. So the encoding
        overlaps the next clip's simulation and first chunk instead of the whole run waiting on it."""
        if self.marker is not None:
            raise RuntimeError(f"{self.name} is already committed")
        cid = clip.clip_id
        where = f"clip {cid}"
        if "." in cid or "/" in cid:
            raise ValueError(f"{where}: clip ids cannot hold '.' or '/' (WebDataset keys)")
        pending = [self._pending[1]] if self._pending else []
        if any(c["clip_id"] == cid for c in self._clips + pending):
            raise ValueError(f"{where}: added twice to {self.name}")
        records = [clip] + list(clip.views)
        cameras = [r.camera for r in records]
        bad = [c for c in cameras if not c or "." in c or "/" in c]
        if bad or len(set(cameras)) != len(cameras):
            raise ValueError(f"{where}: camera names {cameras} must be unique and hold no '.' or '/'")
        summary: dict[str, Any] = {"clip_id": cid, "cameras": cameras, "frames": 0, "objects": 0}
        for rec in records:
            if rec.clip_id != cid:
                raise ValueError(f"{where}: its view from camera {rec.camera!r} says clip_id {rec.clip_id!r}")
            frames, objects = self._add_view(rec, f"{cid}.{rec.camera}" if len(records) > 1 else cid)
            summary["frames"] += frames
            summary["objects"] += objects
        self._tracks += [{"clip_id": cid, **r} for r in clip.tracks]
        return summary

    def _add_view(self, clip: ClipRecord, key: str) -> tuple[int, int]:
        """Encode one camera's video and keep its clips, objects and events rows; the view is
        finished (`_finish_view`) after the next one's first chunk. Returns (frames, object rows)."""
        cid, camera = clip.clip_id, clip.camera
        row = dict(clip.clip_row)
        where = f"clip {cid} camera {camera}"
        if row.setdefault("clip_id", cid) != cid:
            raise ValueError(f"{where}: clip_row says clip_id {row['clip_id']!r}")
        if row.setdefault("camera", camera) != camera:
            raise ValueError(f"{where}: clip_row says camera {row['camera']!r}")
        T.check_required("clips", row.keys(), where)
        mp4 = os.path.join(self._workdir(), f"{key}.mp4")
        modalities = [m for m in D.DENSE if m in set(clip.modalities)]
        pngs: dict[str, list[bytes]] = {m: [] for m in modalities}
        enc, objects = self._encode(clip, row, mp4, where, pngs)
        self._finish_view()     # done after the first chunk already; here for a view without chunks
        self._pending = (enc, row, key, mp4, pngs, clip.timings)
        self._events += [{"clip_id": cid, "camera": camera, **r} for r in clip.events]
        self._objects.append(((cid, camera), objects))
        self._frames += int(row["num_frames"])
        return int(row["num_frames"]), objects.num_rows

    def _finish_view(self) -> None:
        """Close the pending view's video (waiting for its encoder) and put it, its dense PNGs and
        its `<key>.json` into the tar; its clips row gets the tar offsets."""
        if self._pending is None:
            return
        enc, row, key, mp4, pngs, timings = self._pending
        self._pending = None
        t0 = time.perf_counter()
        try:
            enc.close()
        except BaseException:
            enc.abort()
            raise
        t1 = time.perf_counter()
        self._timings["encode"] += t1 - t0
        # the view's own seconds, read once its encoder took every chunk: a chunk's last steps
        # (FrameChunk.prepare, on a helper thread) add theirs until the encoder has waited for them
        self._timings.update(timings)
        member = f"{key}.mp4"
        offset, size = self._tar.add_file(member, mp4)
        os.remove(mp4)
        row.update(shard=self.shard.index, video_member=member, video_offset=offset, video_size=size,
                   modalities=["rgb"] + list(pngs))
        for m in pngs:
            members = [(D.member_name(key, m, f), data) for f, data in enumerate(pngs[m])]
            row[f"{m}_offset"], row[f"{m}_size"] = self._tar.add_span(members)
        self._tar.add_bytes(f"{key}.json", _clip_json(row).encode())
        self._timings["write"] += time.perf_counter() - t1
        self._clips.append(row)

    def _encode(self, clip: ClipRecord, row: dict, mp4: str, where: str, pngs: dict[str, list[bytes]]
                ) -> tuple[VideoEncoder, pa.Table]:
        """Stream the clip's chunks into the encoder (frames) and into one PNG per frame for each
        dense modality in `pngs`; return the encoder, still encoding its last chunk (after the
        first chunk the view before this one is finished), and the clip's object rows sorted by
        (frame, track)."""
        video = self.video
        n = int(row["num_frames"])
        enc = VideoEncoder(mp4, width=int(row["width"]), height=int(row["height"]), fps=float(row["fps"]),
                           crf=int(row.get("video_crf") or video.crf), preset=video.preset, gop=video.gop,
                           background=True)   # encodes on a thread of its own while the next chunk renders
        parts, expected = [], 0
        try:
            for chunk in clip.chunks:
                if chunk.start != expected:
                    raise ValueError(f"{where}: chunk starts at frame {chunk.start}, expected {expected}")
                t0 = time.perf_counter()
                # a buffer of the chunk's own; its last steps (`prepare`) on the encoder's thread
                enc.add(chunk.frames, copy=False, done=chunk.done, prepare=chunk.prepare)
                self._timings["encode"] += time.perf_counter() - t0
                if expected == 0:
                    self._finish_view()
                t0 = time.perf_counter()
                self._encode_dense(chunk, pngs, where)
                self._timings["encode_dense"] += time.perf_counter() - t0
                expected = enc.frames_written
                parts.append(T.objects_to_table(chunk.objects, clip_id=clip.clip_id, camera=clip.camera,
                                                where=f"{where} frames {chunk.start}..{expected - 1}"))
                del chunk       # not held while the next chunk renders
            if expected != n:
                raise ValueError(f"{where}: {expected} frames arrived, clip_row says num_frames={n}")
            short = {m: len(p) for m, p in pngs.items() if len(p) != n}
            if short:
                raise ValueError(f"{where}: dense maps for {short} frames arrived, "
                                 f"clip_row says num_frames={n}")
            enc.finish()        # the encoder thread flushes and closes the file while the next clip renders
        except BaseException:
            enc.abort()
            raise
        objects = pa.concat_tables(parts) if parts else T.empty_table("objects")
        objects = T.sort_table(objects, "objects")
        if objects.num_rows:
            ids = pc.unique(objects["clip_id"]).to_pylist()
            cams = pc.unique(objects["camera"]).to_pylist()
            lo, hi = pc.min_max(objects["frame"]).values()
            if ids != [clip.clip_id] or cams != [clip.camera] or lo.as_py() < 0 or hi.as_py() >= n:
                enc.abort()
                raise ValueError(f"{where}: object rows name clips {ids}, cameras {cams} and frames {lo}..{hi}, "
                                 f"expected only this clip and camera and frames 0..{n - 1}")
        return enc, objects

    @staticmethod
    def _encode_dense(chunk: FrameChunk, pngs: dict[str, list[bytes]], where: str) -> None:
        dense = chunk.dense
        unknown = sorted(set(dense) - set(pngs))
        if unknown:
            raise ValueError(f"{where}: chunk carries dense maps {unknown} the clip does not list in modalities")
        for m, maps in dense.items():
            q = D.quantise(m, maps)
            pngs[m].extend(D.encode_png(m, q[i]) for i in range(q.shape[0]))

    def commit(self) -> dict[str, Any]:
        """Publish the shard and write its marker last; returns the marker."""
        if self.marker is not None:
            return self.marker
        t0 = time.perf_counter()
        work = self._workdir()
        meta = {t: file_metadata(self.shard.recipe_sha256, self.version, t) for t in TABLES}
        where = self.name
        tables = {
            "clips": [],    # once the last view is finished (its row gets the tar offsets)
            "tracks": [T.sort_table(T.rows_to_table("tracks", self._tracks, where=where), "tracks")],
            "objects": [tab for _, tab in sorted(self._objects, key=lambda p: p[0])],
            "events": [T.sort_table(T.rows_to_table("events", self._events, where=where), "events")],
        }
        paths, written = {name: os.path.join(work, f"{name}.parquet") for name in tables}, {}
        for name in ("tracks", "objects", "events"):    # while the last view's encoder finishes
            written[name] = T.write_parquet(paths[name], name, tables[name], meta[name])
        self._timings["write"] += time.perf_counter() - t0
        self._finish_view()
        t0 = time.perf_counter()
        self._tar.close()
        tables["clips"] = [T.sort_table(T.rows_to_table("clips", self._clips, where=where), "clips")]
        written["clips"] = T.write_parquet(paths["clips"], "clips", tables["clips"], meta["clips"])
        local = {f"videos/{self.name}.tar": os.path.join(work, f"{self.name}.tar")}
        local.update({f"tables/{name}/{self.name}.parquet": paths[name] for name in tables})
        rows = {name: written[name] for name in tables}
        files = {}
        for rel, path in local.items():
            with open(path, "rb") as f:
                size, sha = digest(f)
            files[rel] = {"size": size, "sha256": sha}
        for rel, path in local.items():
            self.store.publish(path, rel)
        self._timings["write"] += time.perf_counter() - t0
        marker = self._marker(files, rows, tables)
        self.store.write_atomic(marker_path(self.name), (json.dumps(marker, indent=1) + "\n").encode())
        self._cleanup()
        self.marker = marker
        return marker

    def _marker(self, files: dict, rows: dict, tables: dict[str, list[pa.Table]]) -> dict[str, Any]:
        cats: dict[str, dict[str, int]] = {}
        for key, name in (("tracks", "tracks"), ("objects", "objects")):
            for part in tables[name]:
                for cat, n in Counter(part["category"].to_pylist()).items():
                    cats.setdefault(cat, {"tracks": 0, "objects": 0})[key] += n
        events = Counter(tables["events"][0]["type"].to_pylist())
        timings = {k: round(v, 4) for k, v in sorted(self._timings.items())}
        timings["wall"] = round(time.perf_counter() - self._t0, 4)
        return {
            "shard": self.shard.index, "name": self.name, "schema_version": SCHEMA_VERSION,
            "synthdata_version": self.version, "recipe_sha256": self.shard.recipe_sha256,
            "first_clip": self.shard.first_clip, "num_clips": self.shard.num_clips,
            "clip_ids": sorted(c["clip_id"] for c in self._clips),
            "counts": {"clips": rows["clips"], "frames": self._frames, "objects": rows["objects"],
                       "tracks": rows["tracks"], "events": rows["events"]},
            "categories": dict(sorted(cats.items())),
            "event_types": dict(sorted(events.items())),
            "files": files,
            "timings": timings,
        }

    def abort(self) -> None:
        """Discard everything written so far (nothing of it was visible)."""
        if self._pending is not None:
            self._pending[0].abort()
            self._pending = None
        if self._tar is not None:
            try:
                self._tar.close()
            except Exception:  # noqa: BLE001 - the staging folder is removed below
                pass
        self._cleanup()

    def _cleanup(self) -> None:
        if self._work is not None:
            shutil.rmtree(self._work, ignore_errors=True)
            self._work = None


def _clip_json(row: dict) -> str:
    """The `<clip_id>.json` tar member: the clip row with params (the ClipSpec) parsed."""
    params = row.get("params")
    body = {k: v for k, v in row.items() if k != "params"}
    return dumps({"clip_id": row["clip_id"], "params": json.loads(params) if params else None,
                    "clip": body})


def committed_shards(out: str) -> dict[int, dict[str, Any]]:
    """Shard index -> marker for every committed shard under `out` (unreadable markers are
    treated as not committed)."""
    store = store_for(out)
    found = {}
    for name in store.list(MARKER_DIR):
        marker = _read_marker(store, name)
        if marker is not None:
            found[marker["shard"]] = marker
    return dict(sorted(found.items()))


def _read_marker(store: Any, name: str) -> dict[str, Any] | None:
    m = SHARD_FILE.fullmatch(name)
    if not m or not name.endswith(".json"):
        return None
    try:
        marker = json.loads(store.read_bytes(f"{MARKER_DIR}/{name}"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("shard") != int(m.group(1)) or "files" not in marker:
        return None
    return marker


def is_leftover(rel: str) -> bool:
    """True for a path (relative to OUT) inside the staging area of interrupted commits."""
    return rel == TMP_DIR or rel.startswith(TMP_DIR + "/")


def clean_leftovers(out: str, committed: dict[int, Any] | None = None) -> list[str]:
    """Remove what interrupted commits left under `out`: the staging folder, shard files that
    have no marker, and unreadable markers. Call it before generating, never while shards are
    being written. `committed` is what `committed_shards(out)` just returned, when the caller
    has it (every marker is then read no more); otherwise each marker is read once. Each folder
    is listed once: the work is linear in the number of shards. Returns the removed paths
    (relative to OUT)."""
    store = store_for(out)
    removed = []
    if store.exists(TMP_DIR):
        store.remove_tree(TMP_DIR)
        removed.append(TMP_DIR + "/")
    names = store.list(MARKER_DIR)
    if committed is None:
        committed = {}
        for name in names:
            marker = _read_marker(store, name)
            if marker is not None:
                committed[marker["shard"]] = marker
    for name in names:
        m = SHARD_FILE.fullmatch(name)
        if m and (not name.endswith(".json") or int(m.group(1)) not in committed):
            store.remove(f"{MARKER_DIR}/{name}")
            removed.append(f"{MARKER_DIR}/{name}")
    for folder in ["videos"] + [f"tables/{t}" for t in TABLES]:
        for name in store.list(folder):
            m = SHARD_FILE.fullmatch(name)
            if m and int(m.group(1)) not in committed:
                store.remove(f"{folder}/{name}")
                removed.append(f"{folder}/{name}")
    return removed
