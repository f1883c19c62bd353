"""Target 2: 2 Dask workers >= 1.8 x the throughput of 1 worker (on a 2-core machine).

Runs the runner API (`runner.submit.run_dataset`, what `synthdata run` calls) on the same recipe,
one shard per clip, on the LocalCluster `synthdata run` starts (`runner.cluster.open_client`)
with 2 workers, then on the same cluster scaled down to 1 worker. Cluster start-up is not
timed: the workers are warmed first (imports and one tiny clip rendered), then each whole run
into a fresh folder is timed, best of N. Both figures come from this run.

    python benchmarks/bench_scaling.py            # 8 clips x 32 frames, 640x480
    python benchmarks/bench_scaling.py --quick
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib

TARGET = 1.8


def warm_worker(recipe) -> str:
    """Runs on every worker: generate and commit one tiny shard (imports, first-call costs), untimed."""
    import tempfile

    from synthdata.pipeline import generate_shard
    from synthdata.plan import plan

    with tempfile.TemporaryDirectory(prefix="bench_scaling-warm-") as out:
        generate_shard(recipe, plan(recipe)[0], out, device="cpu")
    return "ok"


def timed_runs(client, recipe, repeat: int, folder: str, tag: str) -> tuple[list[float], int]:
    """Run the whole recipe `repeat` times on the client's cluster, each into a fresh folder."""
    from synthdata.runner.progress import Progress
    from synthdata.runner.submit import run_dataset

    times, frames = [], 0
    for r in range(repeat):
        out = os.path.join(folder, f"{tag}-{r}")
        t0 = time.perf_counter()
        res = run_dataset(recipe, out, client=client, device="cpu", progress=Progress())
        times.append(time.perf_counter() - t0)
        frames = sum(int(s["counts"]["frames"]) for s in res.done.values())
        shutil.rmtree(out, ignore_errors=True)
    return times, frames


def workers_now(client) -> int:
    return len(client.scheduler_info(n_workers=-1)["workers"])


def measure(recipe, repeat: int, folder: str, tiny, quick: bool = False) -> dict[int, tuple[list[float], int]]:
    """One local cluster (as `synthdata run` starts it): 2 workers measured, then scaled down
    to 1 worker and measured again, so both share the scheduler and the warm-up (with `quick`
    the driver-side warm-up run is left out)."""
    from synthdata.runner.cluster import ClusterOptions, open_client

    t0 = time.perf_counter()
    with open_client(ClusterOptions(workers=2, device="cpu")) as client:
        client.wait_for_workers(2)
        t1 = time.perf_counter()
        client.run(warm_worker, tiny)
        if not quick:
            timed_runs(client, tiny, 1, folder, "warm")  # the driver's side of a run, untimed
        print(f"  2-worker cluster started in {t1 - t0:.1f} s, warmed in {time.perf_counter() - t1:.1f} s")
        found = {2: timed_runs(client, recipe, repeat, folder, "w2")}
        client.cluster.scale(1)
        deadline = time.monotonic() + 60
        while workers_now(client) != 1:
            if time.monotonic() > deadline:
                raise SystemExit("the cluster did not scale down to 1 worker within 60 s")
            time.sleep(0.1)
        found[1] = timed_runs(client, recipe, repeat, folder, "w1")
    return found


def main() -> None:
    p = benchlib.parser(__doc__.splitlines()[0])
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--frames", type=int, default=32)
    p.add_argument("--clips", type=int, default=8, help="clips, one shard each (even, for balance)")
    p.add_argument("--recipe", help="another recipe file (default recipes/parking_lot_day.yaml)")
    args = p.parse_args()
    if args.quick:
        args.width, args.height, args.frames, args.clips = 48, 32, 1, 2
    n = benchlib.repeats(args, 2)
    benchlib.print_machine()
    recipe, source = benchlib.bench_recipe(width=args.width, height=args.height, frames=args.frames,
                                           clips=args.clips, clips_per_shard=1, recipe=args.recipe)
    print(f"recipe: {source}; {args.clips} clips x {args.frames} frames at {args.width}x{args.height}, "
          f"one clip per shard; workers run 1 torch thread each")
    if (os.cpu_count() or 1) < 2:
        print("note: fewer than 2 cores here, 2 workers cannot scale")
    folder = tempfile.mkdtemp(prefix="bench_scaling-")
    try:
        tiny, _ = benchlib.bench_recipe(width=48, height=32, frames=1, clips=2, clips_per_shard=1,
                                        recipe=args.recipe)
        fps = {}
        found = measure(recipe, n, folder, tiny, args.quick)
        for workers in (1, 2):
            times, frames = found[workers]
            fps[workers] = frames / min(times)
            print(f"{workers} worker{'s' * (workers > 1)}: {fps[workers]:8.2f} frames/s  "
                  f"runs {benchlib.fmt_times(times)} ({frames} frames)")
        print(f"(best of {n} each; cluster start and warm-up untimed; load average now "
              f"{benchlib.load_average()})")
        benchlib.result("scaling", fps[2] / fps[1], TARGET)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
