"""Target 2: 2 Dask workers >= 1.8 x the throughput of 1 worker (on a 2-core machine).

Runs the runner API (`runner.submit.run_dataset`, what `synthdata run` calls) on the same recipe,
one shard per clip, on the LocalCluster `synthdata run` starts (`runner.cluster.open_client`)
with 2 workers and scaled down to 1 worker, alternately (2, 1, 2, 1, ...: this shared machine's
speed drifts by a fifth over minutes, so both sides sample the same stretch). Cluster start-up
and scaling are not timed: workers are warmed first (imports and one tiny clip rendered), then
each whole run into a fresh folder is timed, best of N. Both figures come from this run.

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
    """Run the whole recipe `repeat` times on the client's cluster, each into a fresh folder.
    Also prints the CPU time of this process (the driver, and the scheduler, which a
    LocalCluster runs in it) per run: on a small machine it competes with the workers."""
    from synthdata.runner.progress import Progress
    from synthdata.runner.submit import run_dataset

    times, frames = [], 0
    for r in range(repeat):
        out = os.path.join(folder, f"{tag}-{r}")
        t0, c0 = time.perf_counter(), time.process_time()
        res = run_dataset(recipe, out, client=client, device="cpu", progress=Progress())
        times.append(time.perf_counter() - t0)
        if tag != "warm":
            cpu = time.process_time() - c0
            print(f"  {tag} run {r}: {times[-1]:.2f} s, driver + scheduler CPU {cpu:.2f} s "
                  f"({100 * cpu / times[-1]:.0f} % of one core)")
        frames = sum(int(s["counts"]["frames"]) for s in res.done.values())
        shutil.rmtree(out, ignore_errors=True)
    return times, frames


def workers_now(client) -> int:
    return len(client.scheduler_info(n_workers=-1)["workers"])


def measure(recipe, repeat: int, folder: str, tiny, quick: bool = False) -> dict[int, tuple[list[float], int]]:
    """One local cluster (as `synthdata run` starts it), measured with 2 workers and with 1,
    alternately, so both share the scheduler, the warm-up and the machine's current speed (with
    `quick` the driver-side warm-up run is left out)."""
    from synthdata.runner.cluster import ClusterOptions, open_client

    def scale_to(client, n: int) -> None:
        client.cluster.scale(n)
        deadline = time.monotonic() + 60
        while workers_now(client) != n:
            if time.monotonic() > deadline:
                raise SystemExit(f"the cluster did not scale to {n} worker(s) within 60 s")
            time.sleep(0.1)
        client.run(warm_worker, tiny)      # a new worker imports and renders once, untimed

    t0 = time.perf_counter()
    found: dict[int, tuple[list[float], int]] = {2: ([], 0), 1: ([], 0)}
    with open_client(ClusterOptions(workers=2, device="cpu")) as client:
        client.wait_for_workers(2)
        t1 = time.perf_counter()
        client.run(warm_worker, tiny)
        if not quick:
            timed_runs(client, tiny, 1, folder, "warm")  # the driver's side of a run, untimed
        print(f"  2-worker cluster started in {t1 - t0:.1f} s, warmed in {time.perf_counter() - t1:.1f} s")
        for r in range(repeat):
            for n in (2, 1):
                if workers_now(client) != n:
                    scale_to(client, n)
                times, frames = timed_runs(client, recipe, 1, folder, f"w{n}-{r}")
                found[n] = (found[n][0] + times, frames)
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
        args.width, args.height, args.frames, args.clips = 64, 48, 1, 2     # 64 wide: a 16:9 plate at 64x36
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
        tiny, _ = benchlib.bench_recipe(width=64, height=48, frames=1, clips=2, clips_per_shard=1,
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
