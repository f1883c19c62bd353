"""Target 7: the driver scales: plan, submit and track a 1,000,000-clip recipe.

Runs the real runner (`runner.submit.prepare_run` and `execute`, what `synthdata run` calls) on
the LocalCluster `synthdata run` starts (`runner.cluster.open_client`, 2 worker processes), with
a stand-in shard task that renders nothing: the benchmark replaces `runner.submit.render_shard`
in this process (Dask ships the stand-in to the workers by value), and the stand-in commits a
marker of the real shape (5 files with sizes and sha256, 10 clip ids, counts, categories) through
the io layer's store, as a real shard does. Nothing in the package knows about it.

Measured in this process (the driver; a local cluster's scheduler runs here too, so its cost is
included): peak RSS, wall and CPU seconds per shard of submit + track, the dataset.json write
(timed inside the run) and a resume scan (`prepare_run` again on the finished folder: every
marker read). The RESULT ratio is 10 ms / (driver CPU per shard), target 1: one driver core
then keeps up with 100 shards/s, far above what 1,000 GPUs finishing a shard a minute need
(~17 shards/s).

    python benchmarks/bench_scale.py                   # 1,000,000 clips, 100,000 shards
    python benchmarks/bench_scale.py --quick           # 2,000 clips, 200 shards (the smoke test)
    python benchmarks/bench_scale.py --clips 200000    # any size
"""
from __future__ import annotations

import os
import resource
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib

TARGET = 1.0
CPU_BUDGET_S = 0.010   # driver CPU seconds per shard that the ratio is measured against


def stand_in_shard(recipe, spec, out: str, device: str, helper: bool = False) -> dict:
    """Runs on a worker instead of `runner.submit.render_shard`: commits a marker of the real
    shape (no video, no tables) and returns it, as a generated shard does."""
    import hashlib
    import json

    from synthdata import __version__
    from synthdata.io.contract import SCHEMA_VERSION
    from synthdata.io.shard import marker_path, shard_files
    from synthdata.io.store import store_for

    files = {rel: {"size": 1_000_000 + i, "sha256": hashlib.sha256(f"{spec.name}/{rel}".encode()).hexdigest()}
             for i, rel in enumerate(shard_files(spec.name))}
    frames = spec.num_clips * recipe.output.frames_per_clip
    marker = {
        "shard": spec.index, "name": spec.name, "schema_version": SCHEMA_VERSION,
        "synthdata_version": __version__, "recipe_sha256": spec.recipe_sha256,
        "first_clip": spec.first_clip, "num_clips": spec.num_clips,
        "clip_ids": [f"{recipe.name}-{i:06d}" for i in spec.clip_indices],
        "counts": {"clips": spec.num_clips, "frames": frames, "objects": frames * 11,
                   "tracks": spec.num_clips * 11, "events": spec.num_clips * 3},
        "categories": {"person": {"tracks": spec.num_clips * 8, "objects": frames * 8},
                       "vehicle": {"tracks": spec.num_clips * 3, "objects": frames * 3}},
        "event_types": {"enter": spec.num_clips * 2, "loiter": spec.num_clips},
        "files": files,
        "timings": {"render": 0.0, "wall": 0.0},
    }
    store_for(out).write_atomic(marker_path(spec.name), (json.dumps(marker, indent=1) + "\n").encode())
    return marker


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    p = benchlib.parser(__doc__.splitlines()[0])
    p.add_argument("--clips", type=int, help="clips in the recipe (default 1,000,000; --quick 2,000)")
    p.add_argument("--clips-per-shard", type=int, default=10)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", help="output folder (default: a temporary folder, removed afterwards)")
    args = p.parse_args()
    clips = args.clips or (2_000 if args.quick else 1_000_000)

    from synthdata import pipeline
    from synthdata.runner import submit
    from synthdata.runner.cluster import ClusterOptions, open_client

    benchlib.print_machine()
    recipe, source = benchlib.bench_recipe(width=640, height=480, frames=200, clips=clips,
                                           clips_per_shard=args.clips_per_shard)
    print(f"recipe: {source}, {clips:,} clips, {args.clips_per_shard} clips per shard; stand-in shard task")
    submit.render_shard = stand_in_shard          # the renderer is replaced here, not in the package
    finalize = pipeline.finalize_dataset
    manifest_s = []

    def timed_finalize(*a, **kw):
        t0 = time.perf_counter()
        try:
            return finalize(*a, **kw)
        finally:
            manifest_s.append(time.perf_counter() - t0)

    pipeline.finalize_dataset = timed_finalize
    out = args.out or tempfile.mkdtemp(prefix="bench_scale-")
    try:
        rss0 = benchlib.rss_now_mb()
        t0, c0 = time.perf_counter(), cpu_s()
        run = submit.prepare_run(recipe, out)
        plan_s, plan_cpu = time.perf_counter() - t0, cpu_s() - c0
        n = len(run.specs)
        print(f"plan + OUT check: {plan_s:.2f} s ({plan_cpu:.2f} s CPU) for {n:,} shards; "
              f"RSS {benchlib.rss_now_mb():.0f} MiB (started at {rss0:.0f})")
        with open_client(ClusterOptions(workers=args.workers, threads_per_worker=1)) as client:
            client.run(lambda: None)
            t0, c0 = time.perf_counter(), cpu_s()
            result = submit.execute(run, client=client, device="cpu")
            run_s, run_cpu = time.perf_counter() - t0, cpu_s() - c0
        assert result.manifest is not None and len(result.done) == n, "the run did not finish"
        track_s = run_s - sum(manifest_s)
        print(f"submit + track: {track_s:.2f} s wall, {run_cpu - sum(manifest_s):.2f} s driver CPU "
              f"(this machine's {os.cpu_count()} cores shared with {args.workers} workers)")
        per_wall, per_cpu = track_s / n, (run_cpu - sum(manifest_s)) / n
        print(f"  per shard: {per_wall * 1e3:.2f} ms wall, {per_cpu * 1e3:.2f} ms driver CPU")
        size = os.path.getsize(os.path.join(out, "dataset.json"))
        print(f"dataset.json write: {sum(manifest_s):.2f} s ({size / 2**20:.1f} MiB, "
              f"{sum(manifest_s) / n * 1e6:.0f} us per shard)")
        del result
        t0 = time.perf_counter()
        again = submit.prepare_run(recipe, out)
        resume_s = time.perf_counter() - t0
        assert not again.todo and len(again.committed) == n
        print(f"resume scan of the finished folder: {resume_s:.2f} s ({resume_s / n * 1e6:.0f} us per shard)")
        peak = benchlib.rss_peak_mb()
        print(f"driver peak RSS: {peak:.0f} MiB ({(peak - rss0) / n * 1024:.1f} KiB per shard above the start)")
        benchlib.result("scale", CPU_BUDGET_S / per_cpu if per_cpu > 0 else 99.0, TARGET,
                        f"({n:,} shards: {per_wall * 1e3:.2f} ms wall and {per_cpu * 1e3:.2f} ms driver CPU "
                        f"per shard, peak RSS {peak:.0f} MiB, manifest {sum(manifest_s):.2f} s, "
                        f"resume scan {resume_s:.2f} s)")
    finally:
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
