"""Target 4: synthdata is >= 100x cheaper per labelled frame than Blender Cycles at 1 sample.

Both render the same scene: a ground plane, a dozen people-sized ellipsoids (semi-axes 0.25 x
0.2 x 0.875 m) walking 5 cm a frame, a sun, a camera 6 m up tilted 25 degrees down with a 60
degree horizontal field of view, 640x480. Blender (the `bpy` package, what Kubric and
BlenderProc render with) runs Cycles on the CPU at 1 sample, no denoising, with the object
index pass, writing one multilayer EXR per frame; it runs in a child process (its bundled
libraries stay away from torch) after one untimed warm-up frame. Its cost excludes turning the
index pass into labels. synthdata renders the same World and labels it (`labels.rows.label_chunk`:
boxes, masks, visibility) one chunk at a time as `synthdata run` does: the pipeline's renderer
(no dense part planes, planes recycled, frames given back once read) and a worker per core, each
its share of the chunks in a process of its own with one thread (as the LocalCluster of
`synthdata run` has them), after an untimed warm-up run of its own (kernels loaded from numba's
cache, the kept planes paged in), so that both CPU times leave out what a long run pays once.
Both use every core, each in its own way: Blender's threads share a frame, synthdata's workers
take frames of their own. `--workers 1` times one synthdata worker.
Measured in the same run, best of N for synthdata; RESULT is the ratio of wall times, and the CPU
times are printed beside it.

Skips (RESULT ... skip) when `import bpy` fails; `--bpy-path DIR` puts a folder holding the bpy
package (pip install --target DIR bpy) on the child's path. Never a test dependency.

    python benchmarks/bench_peer_bpy.py --bpy-path /tmp/bpy_site
    python benchmarks/bench_peer_bpy.py --quick
"""
from __future__ import annotations

import argparse
import json
import math
import os
import queue
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib

TARGET = 100.0
CAMERA = {"position": (0.0, -12.0, 6.0), "tilt_deg": 25.0, "hfov_deg": 60.0}
SEMI_AXES = (0.25, 0.2, 0.875)
STEP_M = 0.05          # each object moves this far along +x every frame
NO_BPY = 3             # the child's exit status when bpy cannot be imported


def object_starts() -> list[tuple[float, float]]:
    """Ground positions (x, y) of the twelve objects in frame 0: a 4 x 3 grid in view."""
    return [(x, y) for y in (-2.0, 2.0, 6.0) for x in (-4.5, -1.5, 1.5, 4.5)]


def colours() -> list[tuple[float, float, float]]:
    return [((37 * i % 10) / 10 * 0.8 + 0.1, (53 * i % 10) / 10 * 0.8 + 0.1, (71 * i % 10) / 10 * 0.8 + 0.1)
            for i in range(len(object_starts()))]


# ---- Blender (child process) -----------------------------------------------------------------
def blender_child(width: int, height: int, frames: int, folder: str) -> None:
    try:
        import bpy
    except Exception as e:  # noqa: BLE001 - any import failure means "no usable bpy here"
        print(f"NO_BPY {type(e).__name__}: {e}", flush=True)
        sys.exit(NO_BPY)

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = 1
    scene.cycles.use_denoising = False
    scene.cycles.use_adaptive_sampling = False
    scene.render.resolution_x, scene.render.resolution_y = width, height
    scene.render.resolution_percentage = 100
    scene.view_layers[0].use_pass_object_index = True
    settings = scene.render.image_settings
    if hasattr(settings, "media_type"):  # Blender 5: multilayer EXR is a media type
        settings.media_type = "MULTI_LAYER_IMAGE"
    settings.file_format = "OPEN_EXR_MULTILAYER"

    world = bpy.data.worlds.new("sky")
    world.color = (0.5, 0.65, 0.9)
    scene.world = world
    bpy.ops.mesh.primitive_plane_add(size=400.0, location=(0.0, 0.0, 0.0))
    objects = []
    for i, ((x, y), rgb) in enumerate(zip(object_starts(), colours())):
        bpy.ops.mesh.primitive_uv_sphere_add(segments=32, ring_count=16, radius=1.0,
                                             location=(x, y, SEMI_AXES[2]))
        obj = bpy.context.active_object
        obj.scale = SEMI_AXES
        obj.pass_index = i + 1
        bpy.ops.object.shade_smooth()
        mat = bpy.data.materials.new(f"m{i}")
        mat.use_nodes = True
        bsdf = mat.node_tree.nodes.get("Principled BSDF")
        if bsdf is not None:
            bsdf.inputs["Base Color"].default_value = (*rgb, 1.0)
        obj.data.materials.append(mat)
        objects.append(obj)
    cam_data = bpy.data.cameras.new("cam")
    cam_data.sensor_fit = "HORIZONTAL"
    cam_data.angle = math.radians(CAMERA["hfov_deg"])
    cam = bpy.data.objects.new("cam", cam_data)
    cam.location = CAMERA["position"]
    cam.rotation_euler = (math.radians(90.0 - CAMERA["tilt_deg"]), 0.0, 0.0)
    scene.collection.objects.link(cam)
    scene.camera = cam
    sun_data = bpy.data.lights.new("sun", "SUN")
    sun_data.energy = 3.0
    sun = bpy.data.objects.new("sun", sun_data)
    sun.rotation_euler = (math.radians(30.0), 0.0, math.radians(40.0))
    scene.collection.objects.link(sun)

    def render(f: int) -> None:
        for obj, (x, y) in zip(objects, object_starts()):
            obj.location = (x + STEP_M * f, y, SEMI_AXES[2])
        scene.frame_set(f)
        scene.render.filepath = os.path.join(folder, f"frame{f:04d}.exr")
        bpy.ops.render.render(write_still=True)

    t0 = time.perf_counter()
    render(0)  # warm-up: kernels, scene build
    warm = time.perf_counter() - t0
    times = []
    c0 = time.process_time()
    for f in range(1, frames + 1):
        t0 = time.perf_counter()
        render(f)
        times.append(time.perf_counter() - t0)
    cpu = (time.process_time() - c0) / max(frames, 1)
    written = sum(1 for n in os.listdir(folder) if n.endswith(".exr"))
    print("BLENDER " + json.dumps({"times": times, "cpu_per_frame_s": cpu, "warmup_s": warm, "written": written,
                                   "version": bpy.app.version_string,
                                   "threads": scene.render.threads}), flush=True)


def run_blender(args, folder: str) -> dict | None:
    """Blender figures from the child, or None when bpy cannot be imported there."""
    env = dict(os.environ)
    if args.bpy_path:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (args.bpy_path, env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, os.path.abspath(__file__), "--blender-child", "--width", str(args.width),
           "--height", str(args.height), "--frames", str(args.frames), "--folder", folder]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode == NO_BPY:
        why = next((ln[7:] for ln in proc.stdout.splitlines() if ln.startswith("NO_BPY ")), "import bpy failed")
        print(f"bpy is not importable: {why}")
        return None
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("BLENDER ")]
    if proc.returncode or not lines:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"the Blender child failed (exit {proc.returncode})")
    return json.loads(lines[-1][len("BLENDER "):])


# ---- synthdata (this process) ----------------------------------------------------------------
def synthdata_world(width: int, height: int, frames: int):
    import numpy as np

    from synthdata.world.geometry.camera import Camera
    from synthdata.world.types import ELLIPSOID, MATERIAL, Actor, Ground, Lighting, Shapes, World

    cam = Camera.from_pose(width, height, position=CAMERA["position"], pan_deg=0.0,
                           tilt_deg=CAMERA["tilt_deg"], hfov_deg=CAMERA["hfov_deg"])
    actors = []
    for i, ((x, y), rgb) in enumerate(zip(object_starts(), colours())):
        xs = x + STEP_M * np.arange(frames)
        centre = np.stack([xs, np.full(frames, y), np.full(frames, SEMI_AXES[2])], 1)[:, None]
        shapes = Shapes(np.array([ELLIPSOID], np.int8), centre, centre.copy(),
                        np.broadcast_to(np.eye(3), (frames, 1, 3, 3)).copy(),
                        np.broadcast_to(np.asarray(SEMI_AXES), (frames, 1, 3)).copy(),
                        np.array([rgb], np.float32), np.array([MATERIAL["cloth"]], np.int8))
        position = centre[:, 0] * [1.0, 1.0, 0.0]
        actors.append(Actor(i + 1, "person", shapes, position, np.zeros(frames), np.ones(frames, bool)))
    return World(frames, 25.0, cam, Shapes.empty(), Ground(), Lighting(), actors, texture_seed=1, noise_seed=2)


def synthdata_frames(world, chunk: int, share: tuple[int, int] = (0, 1)) -> int:
    """Render and label share (i, n) of the world's chunks (every n-th from the i-th) as `synthdata
    run` does: a renderer as the pipeline makes it (no dense part planes, planes recycled, frames
    given back once read); returns object rows."""
    from synthdata.labels.extents import track_extents
    from synthdata.labels.rows import label_chunk
    from synthdata.render.renderer import Renderer

    ext = track_extents(world)
    renderer = Renderer(world, "cpu", part_bounds=ext.parts, parts=False, recycle=True)
    rows = 0
    for start in list(range(0, world.num_frames, chunk))[share[0]::share[1]]:
        batch = renderer.render(start, min(start + chunk, world.num_frames))
        rows += len(label_chunk(world, batch, "peer", ext, masks=True)["frame"])
        if batch.done is not None:
            batch.done()
    return rows


def synthdata_worker(i: int, workers: int, size: tuple[int, int, int], repeats: int, barrier, results) -> None:
    """One worker process (as a LocalCluster's: one thread): builds the world, renders its share
    once untimed, then `repeats` times at the barrier; puts (i, [(start, end, cpu, rows)])."""
    benchlib.set_threads(1)
    world = synthdata_world(*size)
    synthdata_frames(world, 32, (i, workers))   # warm-up, untimed (as Blender's): kernels loaded, planes paged in
    runs = []
    for _ in range(repeats):
        barrier.wait()
        t0, c0 = time.monotonic(), time.process_time()
        rows = synthdata_frames(world, 32, (i, workers))
        runs.append((t0, time.monotonic(), time.process_time() - c0, rows))
    results.put((i, runs))


def run_synthdata(size: tuple[int, int, int], workers: int, repeats: int) -> list[tuple[float, float, int]]:
    """(wall, CPU seconds, object rows) of each repeat: `workers` processes started with spawn, each
    its share of the chunks; wall from the first worker's start to the last one's end."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(workers), ctx.Queue()
    procs = [ctx.Process(target=synthdata_worker, args=(i, workers, size, repeats, barrier, results))
             for i in range(workers)]
    for proc in procs:
        proc.start()
    got: dict = {}
    while len(got) < workers:          # a worker that dies ends the run (instead of waiting for it)
        try:
            i, runs = results.get(timeout=2.0)
            got[i] = runs
        except queue.Empty:
            dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            if dead:
                for proc in procs:
                    proc.kill()
                raise SystemExit(f"a synthdata worker process failed (exit {dead[0]})")
    for proc in procs:
        proc.join()
    return [(max(got[i][r][1] for i in got) - min(got[i][r][0] for i in got), sum(got[i][r][2] for i in got),
             sum(got[i][r][3] for i in got)) for r in range(repeats)]


def main() -> None:
    p = benchlib.parser(__doc__.splitlines()[0])
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--frames", type=int, default=8,
                   help="frames Blender renders (synthdata renders 32x more, rounded up to whole chunks a worker)")
    p.add_argument("--bpy-path", help="folder to put on the Blender child's PYTHONPATH")
    p.add_argument("--workers", type=int, default=0,
                   help="synthdata worker processes (default: one per core, as synthdata run's LocalCluster)")
    p.add_argument("--blender-child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--folder", help=argparse.SUPPRESS)
    p.add_argument("--blender-ms", type=float, default=None,
                   help="when bpy cannot be installed: Blender's ms/frame measured earlier on this machine "
                        "(benchmarks/README.md), used as the reference and said so")
    args = p.parse_args()
    if args.quick:
        args.width, args.height, args.frames = 96, 64, 2
    if args.blender_child:
        blender_child(args.width, args.height, args.frames, args.folder)
        return
    with tempfile.TemporaryDirectory(prefix="bench_peer_bpy-") as folder:
        blender = run_blender(args, folder)
        if blender is None and args.blender_ms:
            blender = {"times": [args.blender_ms / 1000], "version": "(not run here: --blender-ms, measured earlier)",
                       "threads": "?", "warmup_s": 0.0, "cpu_per_frame_s": float("nan")}
        if blender is None:
            benchlib.skip("peer_bpy", TARGET, "bpy not installed; pip install bpy, or --bpy-path DIR")
        n = benchlib.repeats(args, 3)
        workers = args.workers or os.cpu_count() or 1
        benchlib.print_machine()
        sd_frames = 32 * workers * math.ceil(args.frames / workers)    # whole chunks, the same number a worker
        runs = run_synthdata((args.width, args.height, sd_frames), workers, n)
        times = [r[0] for r in runs]
        best, rows = min(times), runs[0][2]
        sd_cpu = sum(r[1] for r in runs) / (n * sd_frames)
        bl = min(blender["times"])
        sd = best / sd_frames
        print(f"scene: ground plane + {len(object_starts())} people-sized ellipsoids, {args.width}x{args.height}")
        print(f"Blender {blender['version']} Cycles CPU, 1 sample, object index pass, EXR written: "
              f"{bl * 1000:9.1f} ms/frame (best of {len(blender['times'])} frames, {blender['threads']} "
              f"threads; warm-up frame {blender['warmup_s']:.1f} s untimed)")
        print(f"synthdata render + label (boxes, masks, visibility): {sd * 1000:9.2f} ms/frame "
              f"({sd_frames} frames, {rows} object rows, {workers} worker(s), "
              f"best of {n}: {benchlib.fmt_times(times)})")
        print(f"CPU time per frame (all threads, mean): Blender {blender['cpu_per_frame_s'] * 1000:.1f} ms, "
              f"synthdata {sd_cpu * 1000:.2f} ms, ratio {blender['cpu_per_frame_s'] / sd_cpu:.1f}")
        benchlib.result("peer_bpy", bl / sd, TARGET)


if __name__ == "__main__":
    main()
