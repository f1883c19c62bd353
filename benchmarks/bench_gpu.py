"""Target 6: with CUDA, rendering runs batched on the GPU >= 20x faster than one CPU worker;
also reports end-to-end frames/s on the GPU host with encoding spread over CPU worker processes.

Render: the benchmark recipe's clip (640x480) is simulated once; its frames are rendered
`output.chunk_frames` at a time with `render.Renderer` as a pipeline worker renders them (frame
buffers recycled) on the CPU with 1 torch thread (one CPU worker) and on CUDA (after a warm-up
chunk; timed with synchronisation), best of N each, in this run. The frames of both devices are
compared (they may differ only at edge pixels). The host's share is the same GPU render with every
compiled kernel a no-op: what a faster GPU does not shorten, so CPU time / host share bounds the
ratio.
End to end: `run_dataset` with --device cuda on a local cluster of 1 worker (one per GPU, the
default) and of K workers sharing the GPU (each renders on the GPU and encodes on its own core),
and with --device cpu on one worker per core, all in this run.

Skips (RESULT ... skip) when torch sees no CUDA device. `--dry-run-on-cpu` exercises the script
with the CPU standing in for the GPU (figures meaningless; for the smoke test).

    python benchmarks/bench_gpu.py
    python benchmarks/bench_gpu.py --quick
    python benchmarks/bench_gpu.py --recipes      # render alone, every shipped recipe and variant
    python benchmarks/bench_gpu.py --profile --only parking_lot_day,shake   # where GPU time goes
    python benchmarks/bench_gpu.py --uploads --only parking_lot_day  # queued uploads vs numba's copies
    python benchmarks/bench_gpu.py --host-share --only shake,ptz  # no GPU needed: the GPU path's host share
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib

TARGET = 20.0


def simulate(recipe):
    from synthdata.plan import clip_id, clip_seed
    from synthdata.world.sample import sample_clip
    from synthdata.world.simulate import simulate as sim

    spec = sample_clip(recipe, 0, seed=clip_seed(recipe.seed, 0), clip_id=clip_id(recipe, 0))
    return sim(spec)


def render_all(world, device, chunk: int):
    """Render every frame in chunks as a pipeline worker does (frame buffers recycled: each chunk's
    frames given back once read, so neither device pays for fresh memory every chunk); returns the
    last chunk's rgb (on the CPU)."""
    import torch

    from synthdata.render.renderer import Renderer

    renderer = Renderer(world, device, parts=False, recycle=True)
    batch = None
    for start in range(0, world.num_frames, chunk):
        if batch is not None:
            batch.done()
        batch = renderer.render(start, min(start + chunk, world.num_frames))
    if batch is None:
        return None
    if batch.rgb.device.type == "cuda":
        torch.cuda.synchronize()
    out = batch.rgb.cpu().clone()
    batch.done()
    return out


def host_only(world, device, chunk: int) -> float:
    """Seconds for the same render on `device` with every compiled kernel a no-op: the host's share
    (geometry, windows, the passes that stay on the host, Python, launching torch's operations),
    which a faster GPU does not shorten. cpu time / this bounds the ratio that rendering on `device`
    can reach with the host code as it is."""
    from synthdata.render.backend import kernels_for

    k = kernels_for(device)
    real = {n: f for n, f in vars(k).items() if callable(f) and n not in ("array", "to_device")}
    try:
        for n in real:
            setattr(k, n, lambda *a: None)
        render_all(world, device, chunk)
        best, _, _ = benchlib.best_of(2, lambda: render_all(world, device, chunk))
    finally:
        for n, f in real.items():
            setattr(k, n, f)
    return best


def e2e(recipe, warm_recipe, folder: str, device: str, workers: int) -> float:
    """Frames/s of a whole run on a fresh local cluster (start-up and warm-up untimed: each worker
    renders a tiny clip first, which compiles or loads its kernels)."""
    from synthdata.runner.cluster import ClusterOptions, open_client
    from synthdata.runner.progress import Progress
    from synthdata.runner.submit import run_dataset

    out = os.path.join(folder, f"{device}-{workers}")
    with open_client(ClusterOptions(workers=workers, device=device)) as client:
        client.wait_for_workers(workers)
        client.run(_warm, warm_recipe, device)
        t0 = time.perf_counter()
        res = run_dataset(recipe, out, client=client, device=device, progress=Progress())
        wall = time.perf_counter() - t0
    shutil.rmtree(out, ignore_errors=True)
    return sum(int(s["counts"]["frames"]) for s in res.done.values()) / wall


def _warm(recipe, device: str) -> str:
    from synthdata.pipeline import generate_clip

    for _chunk in generate_clip(recipe, 0, device=device).chunks:
        pass
    return "ok"


def per_recipe(args, gpu: str) -> float:
    """Render alone on the GPU vs one CPU thread for every shipped recipe and variant (the cases
    of bench_recipes.py); returns the smallest ratio."""
    from bench_recipes import cases


    print(f"render only, {args.frames} frames at {args.width}x{args.height}: GPU best of 2, CPU (1 thread) "
          "once, each after a warm-up render (kernels loaded or compiled, buffers made); host: the GPU render with no-op kernels, ceiling: CPU / host")
    print(f"{'case':<34} {'GPU ms/f':>9} {'CPU ms/f':>9} {'ratio':>7} {'host ms/f':>9} {'ceiling':>8}")
    worst = float("inf")
    for name, path, ov in cases(args.only):
        recipe, _ = benchlib.bench_recipe(width=args.width, height=args.height, frames=args.frames, recipe=path,
                                          overrides=ov)
        world, chunk = simulate(recipe), recipe.output.frames_per_chunk
        for device in dict.fromkeys((gpu, "cpu")):      # kernels, buffers of a whole chunk
            render_all(world, device, chunk)
        g, _, _ = benchlib.best_of(2, lambda: render_all(world, gpu, chunk))
        c, _, _ = benchlib.best_of(1, lambda: render_all(world, "cpu", chunk))
        h = host_only(world, gpu, chunk)
        worst = min(worst, c / g)
        print(f"{name:<34} {1000 * g / args.frames:9.2f} {1000 * c / args.frames:9.1f} {c / g:6.1f}x "
              f"{1000 * h / args.frames:9.2f} {c / h:7.1f}x", flush=True)
    return worst


def profile(args, gpu: str) -> None:
    """Where a GPU render's wall time goes: cProfile of the chunks of each case named by --only
    (after a warm-up render); kernel launches return at once, so host-side work and the calls
    that wait for the GPU (copies back, synchronisation) are what shows."""
    import cProfile
    import io
    import pstats

    from bench_recipes import cases

    for name, path, ov in cases(args.only or "parking_lot_day"):
        recipe, _ = benchlib.bench_recipe(width=args.width, height=args.height, frames=args.frames, recipe=path,
                                          overrides=ov)
        world, chunk = simulate(recipe), recipe.output.frames_per_chunk
        render_all(world, gpu, chunk)
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        render_all(world, gpu, chunk)
        prof.disable()
        wall = time.perf_counter() - t0
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(18)
        print(f"== {name}: {1000 * wall / args.frames:.2f} ms a frame on {gpu} (profiled), own time:")
        print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()), flush=True)


def uploads_ab(args, gpu: str) -> None:
    """The GPU render with host tables sent through torch, queued behind the kernels already
    launched (render/uploads.py `queued_sender`, the default), against numba's synchronous
    `cuda.to_device`, alternating, best of 3, for the cases named by --only."""
    from bench_recipes import cases

    from synthdata.render.backend import kernels_for

    k = kernels_for(gpu)
    if gpu != "cuda":
        print("uploads: the CPU kernels send nothing (dry run)")
        return
    from numba import cuda

    up, queued = k.uploads, k.uploads._to_device
    print(f"{'case':<34} {'queued ms/f':>11} {'numba ms/f':>10} {'numba / queued':>14}")
    for name, path, ov in cases(args.only or "parking_lot_day"):
        recipe, _ = benchlib.bench_recipe(width=args.width, height=args.height, frames=args.frames, recipe=path,
                                          overrides=ov)
        world, chunk = simulate(recipe), recipe.output.frames_per_chunk
        times: dict = {"queued": [], "numba": []}
        try:
            for _ in range(3):
                for how, send in (("queued", queued), ("numba", cuda.to_device)):
                    up._to_device = send
                    up._held.clear()
                    render_all(world, gpu, chunk)       # tables sent this way, buffers warm
                    t0 = time.perf_counter()
                    render_all(world, gpu, chunk)
                    times[how].append(time.perf_counter() - t0)
        finally:
            up._to_device = queued
        q, n = min(times["queued"]), min(times["numba"])
        print(f"{name:<34} {1000 * q / args.frames:11.2f} {1000 * n / args.frames:10.2f} {n / q:13.2f}x", flush=True)


HOST_SHARE = """
import sys
sys.path.insert(0, {bench!r})
import benchlib
benchlib.set_threads(1)
from bench_gpu import host_only, render_all, simulate
recipe, _ = benchlib.bench_recipe(width={width}, height={height}, frames={frames}, recipe={path!r}, overrides={ov!r})
world, chunk = simulate(recipe), recipe.output.frames_per_chunk
if {host}:
    from numba import config
    assert config.ENABLE_CUDASIM, "numba's CUDA simulator is off"
    best = host_only(world, "cpu", chunk)
else:
    render_all(world, "cpu", chunk)
    best, _, _ = benchlib.best_of(2, lambda: render_all(world, "cpu", chunk))
print("MS", 1000 * best / {frames})
"""


def host_share(args) -> float:
    """The GPU path's host share where there is no GPU: numba's CUDA simulator runs the CUDA
    kernels' driver logic on the CPU, every kernel a no-op (`host_only`), for each case of
    bench_recipes.py (--only), against the CPU path rendering the same World on one thread; each
    in a fresh process (no state carried from case to case). CPU / host is the most a GPU could
    make of this host code. torch's operations (copies, fills, the passes still written in torch
    such as rain) run here on the CPU, where on a GPU they are only queued, so a case heavy in
    them shows more than a GPU host would; returns the smallest."""
    from bench_recipes import cases

    print(f"host share of the GPU path under numba's CUDA simulator (kernels no-ops), {args.frames} frames at "
          f"{args.width}x{args.height}, best of 2; CPU: the CPU path, 1 thread; each in a fresh process")
    print(f"{'case':<34} {'host ms/f':>9} {'CPU ms/f':>9} {'ceiling':>8}")
    worst = float("inf")
    bench, root = os.path.dirname(os.path.abspath(__file__)), str(benchlib.ROOT)
    for name, path, ov in cases(args.only):
        h, c = (benchlib.in_checkout(root, HOST_SHARE.format(bench=bench, width=args.width, height=args.height,
                                                             frames=args.frames, path=path, ov=ov, host=host),
                                     "MS", {"NUMBA_ENABLE_CUDASIM": "1"} if host else None)
                for host in (True, False))
        worst = min(worst, c / h)
        print(f"{name:<34} {h:9.2f} {c:9.2f} {c / h:7.1f}x", flush=True)
    return worst


def main() -> None:
    p = benchlib.parser(__doc__.splitlines()[0])
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--frames", type=int, default=64)
    p.add_argument("--clips", type=int, default=16, help="clips of the end-to-end runs (one shard each)")
    p.add_argument("--gpu-workers", default="",
                   help="worker processes sharing the GPU in the end-to-end run, comma-separated counts for several "
                        "runs (default: what a local --device cuda cluster starts, runner/cluster.py gpu_workers)")
    p.add_argument("--skip-e2e", action="store_true", help="only the render comparison")
    p.add_argument("--recipes", action="store_true",
                   help="instead: render alone on the GPU vs one CPU thread for every shipped recipe and variant")
    p.add_argument("--profile", action="store_true",
                   help="instead: cProfile a GPU render of the cases named by --only (default parking_lot_day)")
    p.add_argument("--uploads", action="store_true",
                   help="instead: host tables sent queued through torch vs numba's synchronous copies (--only cases)")
    p.add_argument("--host-share", action="store_true",
                   help="instead, no GPU needed: the GPU path's host share under numba's CUDA simulator against the "
                        "CPU render, per case (--only)")
    p.add_argument("--only", default="",
                   help="with --recipes, --profile, --uploads or --host-share: comma-separated case names (substrings)")
    p.add_argument("--recipe", help="another recipe file (default recipes/parking_lot_day.yaml)")
    p.add_argument("--dry-run-on-cpu", action="store_true",
                   help="no GPU needed: the CPU stands in for it (checks the script; figures meaningless)")
    args = p.parse_args()
    if args.host_share:
        if args.quick:
            args.width, args.height, args.frames = 96, 64, 4
        benchlib.print_machine()
        benchlib.result("gpu_host_share", host_share(args), TARGET, "(smallest ceiling: CPU / host share)")
        return
    import torch

    if not args.dry_run_on_cpu and not torch.cuda.is_available():
        benchlib.skip("gpu", TARGET, "no CUDA device visible to torch")
    gpu = "cpu" if args.dry_run_on_cpu else "cuda"
    if args.quick:
        args.width, args.height, args.frames, args.clips = 96, 64, 4, 2
    n = benchlib.repeats(args, 3)
    benchlib.set_threads(1)
    benchlib.print_machine()
    if gpu == "cuda":
        print(f"GPU: {torch.cuda.get_device_name(0)} ({torch.cuda.device_count()} visible)")
    else:
        print("dry run: the CPU stands in for the GPU; the figures below mean nothing")
    recipe, source = benchlib.bench_recipe(width=args.width, height=args.height, frames=args.frames,
                                           clips=args.clips, clips_per_shard=1, recipe=args.recipe)
    chunk = recipe.output.frames_per_chunk
    if args.profile:
        profile(args, gpu)
        return
    if args.uploads:
        uploads_ab(args, gpu)
        return
    if args.recipes:
        benchlib.result("gpu_recipes", per_recipe(args, gpu), TARGET,
                        "(dry run on cpu)" if gpu == "cpu" else "(smallest ratio)")
        return
    world = simulate(recipe)
    print(f"recipe: {source}; {args.frames} frames at {args.width}x{args.height}, {len(world.actors)} actors, "
          f"chunks of {chunk} frames")

    render_all(world, gpu, chunk)  # warm-up (CUDA context, kernels)
    gpu_best, gpu_times, gpu_rgb = benchlib.best_of(n, lambda: render_all(world, gpu, chunk))
    cpu_best, cpu_times, cpu_rgb = benchlib.best_of(max(1, n - 1), lambda: render_all(world, "cpu", chunk))
    differ = float((gpu_rgb.int() - cpu_rgb.int()).abs().amax(-1).gt(8).float().mean()) if gpu_rgb is not None else 0.0
    gpu_fps, cpu_fps = args.frames / gpu_best, args.frames / cpu_best
    print(f"{'render on ' + gpu:<24}: {gpu_fps:9.1f} frames/s  runs {benchlib.fmt_times(gpu_times)}")
    print(f"{'render on cpu, 1 thread':<24}: {cpu_fps:9.1f} frames/s  runs {benchlib.fmt_times(cpu_times)}")
    print(f"pixels differing by more than 8 levels between the devices (last chunk): {100 * differ:.2f} %")
    host = host_only(world, gpu, chunk)
    print(f"{'host share (no kernels)':<24}: {args.frames / host:9.1f} frames/s: the most any device can make of "
          f"this host code is {cpu_best / host:.1f}x one CPU thread")
    if not args.skip_e2e:
        folder = tempfile.mkdtemp(prefix="bench_gpu-")
        warm, _ = benchlib.bench_recipe(width=64, height=48, frames=2, recipe=args.recipe)
        try:
            from synthdata.runner.cluster import gpu_workers
            cores = os.cpu_count() or 1
            ks = [int(x) for x in args.gpu_workers.split(",") if x] or [gpu_workers() if gpu == "cuda" else 1]
            runs = [(gpu, k) for k in ks] + [("cpu", cores), (gpu, 1)] if not args.quick else [(gpu, 1)]
            for device, workers in dict.fromkeys(runs):
                fps = e2e(recipe, warm, folder, device, workers)
                print(f"end to end, --device {device}, {workers} worker process(es): {fps:8.1f} frames/s "
                      f"({args.clips} clips x {args.frames} frames)")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    benchlib.result("gpu", gpu_fps / cpu_fps, TARGET, "(dry run on cpu)" if gpu == "cpu" else "")


if __name__ == "__main__":
    main()
