"""`synthdata report` on 1 M object rows finishes in under a minute on 2 cores.

A dataset is made first (untimed): `tests/fakes.py`'s `write_fake_dataset` writes real shards (H.264
videos, all four tables, markers, dataset.json) for C clips of F frames; then every shard's
tracks, objects and events files are replaced by synthesised rows in the real table format
(`io.contract` schemas, sort order, row groups per clip, metadata, zstd) with K objects per frame,
so objects = C x F x K (1,000,000 by default): categories person / car / bag, visible and amodal
boxes (5 % fully hidden with null boxes), visibility, truncation, depth, COCO keypoints for
people, RLE masks, world positions. dataset.json's counts are updated to match.

Timed: `report.build_report` (DuckDB aggregations with 2 threads, plots, 12 sample frames
decoded and drawn, the HTML page), best of N; the split between aggregations (stats +
coverage) and the rest is printed. Reference in the same run: reading the columns the report
aggregates into memory with pyarrow. ratio = 60 s / report seconds (target >= 1: under a minute).

    python benchmarks/bench_report.py                 # 1 M object rows
    python benchmarks/bench_report.py --rows 3000000
    python benchmarks/bench_report.py --quick         # 20 k rows
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib

BUDGET_S = 60.0
CLIPS, FRAMES = 100, 25


def synthesise(out: str, rows: int, seed: int = 0) -> dict[str, int]:
    """Replace the tracks/objects/events files of the fake dataset at `out` (see the module doc)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from synthdata.io import tables as T
    from synthdata.io.contract import CONTRACT, META_KEY

    manifest = json.loads(open(os.path.join(out, "dataset.json")).read())
    clips_t = pq.read_table(os.path.join(out, "tables", "clips"), columns=["clip_id", "shard", "num_frames", "width",
                                                                          "height"]).to_pylist()
    frames_total = sum(c["num_frames"] for c in clips_t)
    k = max(1, round(rows / frames_total))
    rng = np.random.default_rng(seed)
    cats = np.array(["person", "car", "bag"])
    track_cat = cats[np.arange(k) % 10 // 6 + (np.arange(k) % 10 == 9)]      # 6 person, 3 car, 1 bag in 10
    totals = {"objects": 0, "tracks": 0, "events": 0}
    for shard in manifest["shards"]:
        mine = [c for c in clips_t if c["shard"] == shard["shard"]]
        parts = {"objects": [], "tracks": [], "events": []}
        for c in mine:
            parts["objects"].append(_objects(c, k, track_cat, rng, CONTRACT["objects"].schema))
            parts["tracks"].append(T.rows_to_table("tracks", [
                {"clip_id": c["clip_id"], "track_id": t, "category": str(track_cat[t]), "subtype": str(track_cat[t]),
                 "first_frame": 0, "last_frame": c["num_frames"] - 1, "num_frames": c["num_frames"]}
                for t in range(k)]))
            ev = [{"clip_id": c["clip_id"], "camera": "cam0", "event_id": i, "type": ["enter", "loitering", "intrusion"][i % 3],
                   "track_id": i % k, "track_ids": [i % k], "zone": "door", "start_frame": 2 * i,
                   "end_frame": min(2 * i + 5, c["num_frames"] - 1)} for i in range(3)]
            parts["events"].append(T.rows_to_table("events", ev))
        meta = pq.read_schema(os.path.join(out, "tables", "objects", f"{shard['name']}.parquet")).metadata
        for name, tabs in parts.items():
            n = T.write_parquet(os.path.join(out, "tables", name, f"{shard['name']}.parquet"), name, tabs,
                                {META_KEY: meta[META_KEY]})
            totals[name] += n
            shard["counts"][name] = n
    manifest["counts"].update(totals)
    with open(os.path.join(out, "dataset.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return {**totals, "per_frame": k, "frames": frames_total}


def _objects(c: dict, k: int, track_cat, rng, schema) -> "pa.Table":
    import numpy as np
    import pyarrow as pa

    f = c["num_frames"]
    n = f * k
    frame = np.repeat(np.arange(f, dtype=np.int32), k)
    track = np.tile(np.arange(k, dtype=np.int32), f)
    cat = track_cat[track]
    W, H = c["width"], c["height"]
    ah = rng.uniform(2, H * 0.8, n).astype(np.float32)
    aw = (ah * np.where(cat == "person", 0.4, 1.6)).astype(np.float32)
    ax = rng.uniform(-aw / 2, W - aw / 2).astype(np.float32)
    ay = rng.uniform(0, H - ah / 2).astype(np.float32)
    vis = np.clip(rng.beta(4, 1, n), 0, 1).astype(np.float32)
    hidden = rng.random(n) < 0.05
    vis[hidden] = 0
    x0, y0 = np.maximum(ax, 0), np.maximum(ay, 0)
    x1, y1 = np.minimum(ax + aw, W), np.minimum(ay + ah, H)
    box = {"x": x0, "y": y0, "w": np.maximum(x1 - x0, 1), "h": np.maximum(y1 - y0, 1)}
    trunc = (1 - (x1 - x0) * (y1 - y0) / (aw * ah)).astype(np.float32)
    person = cat == "person"
    kp_values = rng.uniform(0, W, int(person.sum()) * 51).astype(np.float32)
    offsets = np.concatenate([[0], np.cumsum(np.where(person, 51, 0))]).astype(np.int32)
    keypoints = pa.ListArray.from_arrays(pa.array(offsets), pa.array(kp_values), mask=pa.array(~person))
    masks = pa.StructArray.from_arrays([pa.array([[H, W]] * n, pa.list_(pa.int32())), pa.array(["PPYo0"] * n)],
                                       names=["size", "counts"], mask=pa.array(hidden))
    cols = {"clip_id": pa.array([c["clip_id"]] * n), "camera": pa.array(["cam0"] * n), "frame": frame, "track_id": track, "category": pa.array(cat),
            **{name: pa.array(v, pa.float32(), mask=hidden) for name, v in box.items()},
            "ax": ax, "ay": ay, "aw": aw, "ah": ah, "visibility": vis, "truncation": trunc,
            "depth": rng.uniform(3, 60, n).astype(np.float32), "keypoints": keypoints, "mask": masks,
            "world_x": rng.normal(0, 10, n).astype(np.float32), "world_y": rng.normal(0, 10, n).astype(np.float32),
            "world_z": np.zeros(n, np.float32), "heading": rng.uniform(-3.14, 3.14, n).astype(np.float32),
            "visible_pixels": (vis * aw * ah).astype(np.int32), "amodal_pixels": (aw * ah).astype(np.int32),
            "action": pa.array(np.where(cat == "person", "walk", None).tolist(), pa.string())}
    cols = {fld.name: cols.get(fld.name, pa.nulls(n, fld.type)) for fld in schema}   # other columns: null
    return pa.table([pa.array(cols[fld.name], fld.type) if not isinstance(cols[fld.name], pa.Array) else cols[fld.name]
                     for fld in schema], schema=schema)


def main() -> None:
    p = benchlib.parser(__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000, help="object rows to synthesise")
    p.add_argument("--threads", type=int, default=2, help="DuckDB threads")
    p.add_argument("--keep", metavar="DIR", help="build the dataset here and keep it")
    args = p.parse_args()
    rows = 20_000 if args.quick else args.rows
    n = benchlib.repeats(args, 2)
    benchlib.print_machine()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root: tests/fakes.py
    from tests.fakes import write_fake_dataset
    from synthdata.report.build import build_report

    out = args.keep or tempfile.mkdtemp(prefix="bench-report-")
    try:
        t0 = time.perf_counter()
        clips = 10 if args.quick else CLIPS
        write_fake_dataset(out, clips=clips, clips_per_shard=max(1, clips // 4), num_frames=FRAMES)
        made = synthesise(out, rows)
        print(f"dataset: {clips} clips x {FRAMES} frames x {made['per_frame']} objects = {made['objects']:,} object "
              f"rows, {made['tracks']:,} tracks, {made['events']:,} events (made in {time.perf_counter() - t0:.1f} s)")
        from synthdata.io.reader import open_dataset

        cols = ["clip_id", "frame", "category", "w", "h", "visibility", "truncation", "depth"]
        read_s, _, _ = benchlib.best_of(n, lambda: open_dataset(out).objects.to_table(columns=cols).num_rows)
        cpu: list[float] = []

        def report() -> tuple[str, dict]:
            c0 = time.process_time()
            try:
                return build_report(out, samples=12, threads=args.threads)
            finally:
                cpu.append(time.process_time() - c0)

        report_s, times, (page, data) = benchlib.best_of(n, report)
        from synthdata.report import stats as S
        from synthdata.report.coverage import coverage
        from synthdata.report.tables import connect

        def aggregate() -> None:
            ds = open_dataset(out)
            con = connect(ds, threads=args.threads)
            S.compute_stats(con, ds)
            coverage(con)

        agg_s, _, _ = benchlib.best_of(n, aggregate)
        assert data["counts"]["objects"] == made["objects"]
        print(f"pyarrow read of the {len(cols)} aggregated columns: {read_s:.2f} s")
        print(f"report: {report_s:.2f} s (runs {', '.join(f'{t:.2f}' for t in times)}; CPU time of this process "
              f"{', '.join(f'{t:.2f}' for t in cpu)} s, all threads), of which aggregations "
              f"(stats + coverage) {agg_s:.2f} s; page {len(page) / 1e6:.2f} MB, {len(data['samples'])} samples, "
              f"{made['objects'] / report_s / 1e6:.2f} M rows/s")
        print(f"load average after: {benchlib.load_average()}")
        ratio = BUDGET_S / report_s
        verdict = "pass" if ratio >= 1 else "fail"
        print(f"RESULT report ratio={ratio:.2f} target=1.0 {verdict} ({made['objects']:,} object rows, "
              f"{args.threads} DuckDB threads)")
    finally:
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
