"""`synthdata verify`: check a finished dataset against its manifest and the contract (DESIGN.md §3).

Checks, shard by shard: every file listed exists with the recorded size and sha256 (against the
marker and dataset.json); each Parquet file has the schema-v1 columns and types, the `synthdata`
metadata of this recipe, the marker's row count and rows in (clip_id, frame, track_id) order;
every clip decodes to num_frames frames of its size from its byte range, and each dense modality's
range to one PNG per frame (schema version 2); every visible box equals
its mask's extent; frames, tracks and events refer to what exists. Then totals against dataset.json.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

import pyarrow as pa

from synthdata.io import dense as D
from synthdata.io import rle
from synthdata.io.contract import META_KEY, SCHEMA_VERSION, TABLES, contract_for, read_metadata
from synthdata.io.manifest import MANIFEST, read_manifest
from synthdata.io.shard import MARKER_DIR, SHARD_FILE, committed_shards, shard_files
from synthdata.io.store import Store, digest, store_for
from synthdata.io.video import VideoClip

MAX_PER_KIND = 20   # problems listed per kind of problem; the rest are counted


class Report:
    """Problems found, grouped by kind, and counts of what was checked."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.hidden: Counter[str] = Counter()
        self.per_kind: Counter[str] = Counter()
        self.checked: Counter[str] = Counter()

    def bad(self, kind: str, message: str) -> None:
        self.per_kind[kind] += 1
        if self.per_kind[kind] <= MAX_PER_KIND:
            self.problems.append(message)
        else:
            self.hidden[kind] += 1

    @property
    def ok(self) -> bool:
        return not self.per_kind

    def lines(self) -> list[str]:
        more = [f"... and {n} more problems of kind '{k}'" for k, n in sorted(self.hidden.items())]
        return self.problems + more


def verify_dataset(path: str, *, decode: bool = True) -> tuple[Report, dict[str, Any]]:
    """Check the dataset at `path`; returns (report, manifest). DatasetError when it is not one."""
    store = store_for(path)
    manifest = read_manifest(store)
    report = Report()
    markers = committed_shards(path)
    listed = {s["shard"] for s in manifest["shards"]}
    for name in store.list(MARKER_DIR):
        m = SHARD_FILE.fullmatch(name)
        if not m or int(m.group(1)) not in markers:
            report.bad("marker", f"{MARKER_DIR}/{name}: unreadable or not a shard marker")
        elif int(m.group(1)) not in listed:
            report.bad("marker", f"{MARKER_DIR}/{name}: committed shard missing from {MANIFEST}")
    expected = {rel for s in manifest["shards"] for rel in s["files"]}
    for folder in ["videos"] + [f"tables/{t}" for t in TABLES]:
        for name in store.list(folder):
            if f"{folder}/{name}" not in expected:
                report.bad("stray", f"{folder}/{name}: not listed in {MANIFEST} (readers of the folder "
                                    f"would see it)")
    totals: Counter[str] = Counter()
    last_keys: dict[str, tuple] = {}
    seen_clips: set[str] = set()
    for entry in manifest["shards"]:
        _verify_shard(store, manifest, entry, markers.get(entry["shard"]), report, decode, totals,
                      last_keys, seen_clips)
    counts = manifest.get("counts", {})
    for key in ("clips", "frames", "objects", "tracks", "events"):
        unreadable = totals["unreadable:" + ("clips" if key == "frames" else key)]
        if key in counts and not unreadable and counts[key] != totals[key]:
            report.bad("counts", f"{MANIFEST}: counts.{key} is {counts[key]}, the tables hold {totals[key]}")
    report.checked.update({k: v for k, v in totals.items() if ":" not in k})
    return report, manifest


def _verify_shard(store: Store, manifest: dict, entry: dict, marker: dict | None, report: Report,
                  decode: bool, totals: Counter, last_keys: dict, seen_clips: set) -> None:
    name = entry["name"]
    if marker is None:
        report.bad("marker", f"{MARKER_DIR}/{name}.json: missing (the shard is listed in {MANIFEST})")
    elif marker.get("files") != entry["files"]:
        report.bad("marker", f"{MARKER_DIR}/{name}.json: files differ from {MANIFEST}'s shard entry")
    for rel in shard_files(name):
        rec = entry["files"].get(rel)
        if rec is None:
            report.bad("files", f"{MANIFEST}: shard {name} does not list {rel}")
        else:
            _verify_file(store, rel, rec, report)
    # a file with a wrong hash is still read: what it breaks is worth listing too
    data = {t: _read_table(store, rel_of(t, name), t, manifest, entry, report) for t in TABLES}
    if data["clips"] is not None:
        totals["frames"] += sum(data["clips"]["num_frames"].to_pylist())
    version = manifest.get("schema_version", SCHEMA_VERSION)
    for t, table in data.items():
        if table is None:
            totals["unreadable:" + t] += 1
        else:
            totals[t] += table.num_rows
            _check_order(rel_of(t, name), t, table, report, last_keys, version)
    clips = None
    if data["clips"] is not None:     # one row per (clip, camera); single-camera data: camera "cam0"
        clips = {(r["clip_id"], r.get("camera") or "cam0"): r for r in data["clips"].to_pylist()}
        _verify_clip_rows(clips, entry, report, seen_clips)
    if clips is not None:
        tar = f"videos/{name}.tar"
        if decode and store.exists(tar):
            for row in clips.values():
                _verify_video(store, tar, row, report)
        if store.exists(tar):
            for row in clips.values():
                _verify_dense(store, tar, row, report, decode)
        if data["objects"] is not None:
            _verify_objects(rel_of("objects", name), data["objects"], clips, data["tracks"], report)
        if data["events"] is not None:
            for e in data["events"].to_pylist():
                c = clips.get((e["clip_id"], e.get("camera") or "cam0"))
                if c is None or not 0 <= e["start_frame"] <= e["end_frame"] < c["num_frames"]:
                    report.bad("events", f"{rel_of('events', name)}: event {e['clip_id']}/{e['event_id']} "
                                         f"frames {e['start_frame']}..{e['end_frame']} outside its clip")


def _verify_clip_rows(clips: dict, entry: dict, report: Report, seen_clips: set) -> None:
    """Clip ids unique to one shard, no dots in ids or camera names, and each row's shard and
    video member: `<clip_id>.mp4`, or `<clip_id>.<camera>.mp4` for a clip with several cameras."""
    cameras = Counter(cid for cid, _ in clips)
    report.checked["clip_ids"] += len(cameras)
    for cid in cameras:
        if cid in seen_clips:
            report.bad("clips", f"clip {cid}: appears in more than one shard")
        seen_clips.add(cid)
        if "." in cid:
            report.bad("clips", f"clip {cid}: clip_id holds a dot (WebDataset keys cannot)")
    for (cid, cam), row in clips.items():
        if "." in cam or "/" in cam:
            report.bad("clips", f"clip {cid}: camera name {cam!r} holds a dot or slash (WebDataset keys cannot)")
        member = f"{cid}.mp4" if cameras[cid] == 1 else f"{cid}.{cam}.mp4"
        if row["shard"] != entry["shard"] or row["video_member"] != member:
            report.bad("clips", f"clip {cid}: shard/video_member {row['shard']}/{row['video_member']} "
                                f"do not match {entry['name']}")


def rel_of(table: str, shard_name: str) -> str:
    return f"tables/{table}/{shard_name}.parquet"


def _verify_file(store: Store, rel: str, rec: dict, report: Report) -> None:
    if not store.exists(rel):
        report.bad("files", f"{rel}: missing")
        return
    size = store.size(rel)
    if size != rec.get("size"):
        report.bad("files", f"{rel}: {size} bytes, the manifest records {rec.get('size')}")
        return
    with store.open(rel) as f:
        _, sha = digest(f)
    report.checked["files"] += 1
    if sha != rec.get("sha256"):
        report.bad("files", f"{rel}: sha256 {sha[:16]}... differs from the recorded "
                            f"{str(rec.get('sha256'))[:16]}...")


def _read_table(store: Store, rel: str, name: str, manifest: dict, entry: dict,
                report: Report) -> pa.Table | None:
    import pyarrow.parquet as pq

    if not store.exists(rel):
        return None
    try:
        with store.open(rel) as f:
            table = pq.read_table(f)
    except Exception as e:  # noqa: BLE001 - any reader error is the problem to report
        report.bad("parquet", f"{rel}: unreadable Parquet ({type(e).__name__}: {e})")
        return None
    schema = table.schema
    version = manifest.get("schema_version", SCHEMA_VERSION)
    want = contract_for(name, version).schema
    missing = [f.name for f in want if f.name not in schema.names]
    wrong = [f"{f.name} is {schema.field(f.name).type}, expected {f.type}" for f in want
             if f.name in schema.names and schema.field(f.name).type != f.type]
    if missing or wrong:
        what = ([f"missing columns {missing}"] if missing else []) + wrong
        report.bad("schema", f"{rel}: " + "; ".join(what))
    meta = read_metadata(schema)
    if not meta:
        report.bad("schema", f"{rel}: no '{META_KEY.decode()}' schema metadata")
    elif (meta.get("schema_version"), meta.get("recipe_sha256")) != (version, manifest.get("recipe_sha256")):
        report.bad("schema", f"{rel}: metadata schema_version {meta.get('schema_version')}, recipe "
                             f"{str(meta.get('recipe_sha256'))[:12]} do not match the dataset")
    rows = entry.get("counts", {}).get(name)
    if rows is not None and rows != table.num_rows:
        report.bad("rows", f"{rel}: {table.num_rows} rows, the marker records {rows}")
    return None if missing else table


def _check_order(rel: str, name: str, table: pa.Table, report: Report, last_keys: dict, version: int) -> None:
    sort_keys = contract_for(name, version).sort_keys
    keys = list(zip(*(table[k].to_pylist() for k in sort_keys)))
    if not keys:
        return
    prev = last_keys.get(name)
    for i, k in enumerate(keys):
        if prev is not None and not prev < k:
            what = "duplicate" if prev == k else "out of order"
            report.bad("order", f"{rel}: row {i} {dict(zip(sort_keys, k))} is {what} "
                                f"(rows must be sorted by {', '.join(sort_keys)})")
            break
        prev = k
    last_keys[name] = keys[-1]


def _verify_video(store: Store, tar: str, row: dict, report: Report) -> None:
    cid = D.member_key(row)
    try:
        data = store.read_range(tar, row["video_offset"], row["video_size"])
        clip = VideoClip(data)
        n = sum(1 for _ in clip.iter_frames())
    except Exception as e:  # noqa: BLE001 - any decoder error is the problem to report
        report.bad("video", f"clip {cid}: bytes {row['video_offset']}+{row['video_size']} of {tar} do not "
                            f"decode ({type(e).__name__}: {e})")
        return
    report.checked["videos"] += 1
    if n != row["num_frames"]:
        report.bad("video", f"clip {cid}: decodes to {n} frames, the clips table says {row['num_frames']}")
    if (clip.width, clip.height) != (row["width"], row["height"]):
        report.bad("video", f"clip {cid}: video is {clip.width}x{clip.height}, the table says "
                            f"{row['width']}x{row['height']}")


def _verify_dense(store: Store, tar: str, row: dict, report: Report, decode: bool) -> None:
    """Each dense modality the clip lists: its byte range holds one PNG per frame, in order
    (io/dense.py span_problems)."""
    for m in row.get("modalities") or []:
        if m == "rgb":
            continue
        if m not in D.DENSE or row.get(f"{m}_offset") is None or row.get(f"{m}_size") is None:
            report.bad("dense", f"clip {row['clip_id']}: lists modality {m!r} without its byte range")
            continue
        try:
            data = store.read_range(tar, row[f"{m}_offset"], row[f"{m}_size"])
        except Exception as e:  # noqa: BLE001 - an unreadable range is the problem to report
            report.bad("dense", f"clip {row['clip_id']}: {m} range unreadable ({e})")
            continue
        problems = D.span_problems(row, m, data, decode=decode)
        for p in problems:
            report.bad("dense", p)
        if not problems:
            report.checked["dense_maps"] += 1


def _verify_objects(rel: str, table: pa.Table, clips: dict, tracks: pa.Table | None, report: Report) -> None:
    cols = ["clip_id", "frame", "track_id", "category", "x", "y", "w", "h", "visibility", "truncation",
            "keypoints", "mask"] + (["camera"] if "camera" in table.schema.names else [])
    spans = {}
    if tracks is not None:
        spans = {(t["clip_id"], t["track_id"]): t for t in tracks.to_pylist()}
    for o in table.select(cols).to_pylist():
        cam = o.get("camera") or "cam0"
        where = f"{rel}: {o['clip_id']}{'' if cam == 'cam0' else ' camera ' + cam} frame {o['frame']} " \
                f"track {o['track_id']}"
        clip = clips.get((o["clip_id"], cam))
        if clip is None:
            report.bad("objects", f"{where}: clip not in the clips table")
            continue
        if not 0 <= o["frame"] < clip["num_frames"]:
            report.bad("objects", f"{where}: frame outside the clip's {clip['num_frames']} frames")
        track = spans.get((o["clip_id"], o["track_id"]))
        if tracks is not None and (track is None or track["category"] != o["category"]
                                   or not track["first_frame"] <= o["frame"] <= track["last_frame"]):
            report.bad("tracks", f"{where}: no track with this id, category and frame span")
        for k in ("visibility", "truncation"):
            if o[k] is not None and not 0.0 <= o[k] <= 1.0:
                report.bad("objects", f"{where}: {k} {o[k]} outside [0, 1]")
        if o["keypoints"] is not None and len(o["keypoints"]) != 51:
            report.bad("objects", f"{where}: {len(o['keypoints'])} keypoint values, "
                                  f"expected 51 (COCO-17 x, y, v)")
        box = (o["x"], o["y"], o["w"], o["h"])
        if o["mask"] is not None:
            _check_mask(where, box, o["mask"], clip, report)

    report.checked["objects_checked"] += table.num_rows


def _check_mask(where: str, box: tuple, mask: dict, clip: dict, report: Report) -> None:
    if list(mask["size"]) != [clip["height"], clip["width"]]:
        report.bad("masks", f"{where}: mask size {mask['size']}, "
                            f"the clip is [{clip['height']}, {clip['width']}]")
        return
    try:
        ext = rle.extent(mask)
    except Exception as e:  # noqa: BLE001 - a malformed RLE string is the problem to report
        report.bad("masks", f"{where}: mask RLE unreadable ({e})")
        return
    if ext is None or None in box:
        if ext is not None or None not in box:
            report.bad("masks", f"{where}: visible box {box} but mask extent {ext}")
        return
    report.checked["masks"] += 1
    if max(abs(a - b) for a, b in zip(ext, box)) > 0.5:
        report.bad("masks", f"{where}: visible box {tuple(round(v, 2) for v in box)} differs from its "
                            f"mask's extent {ext}")
