"""The CUDA code path (render/gpu.py) is executed on every commit under numba's CUDA simulator
and must draw what the CPU kernels draw: one maths source (render/pixel.py), two drivers."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from synthdata.render.renderer import Renderer
from tests.scenes import random_world

ROOT = Path(__file__).resolve().parents[1]
SCENE = dict(seed=5, T=2, width=48, height=36, n_people=4, n_boxes=2, patterns=True)   # fabrics too
SCRIPT = """
import sys
import numpy as np
from synthdata.render.backend import kernels_for
from synthdata.render.gpu import cuda_kernels
from synthdata.render.renderer import Renderer
from tests.scenes import random_world
assert kernels_for("cpu") is cuda_kernels()          # the simulator runs the CUDA launchers
from tests.test_render_gpu import scene
w = scene(eval(sys.argv[2]))
b = Renderer(w, "cpu").render(0, w.num_frames)
np.savez(sys.argv[1], rgb=b.rgb.numpy(), inst=b.instance.numpy(), depth=b.depth.numpy(), part=b.part.numpy(),
         amodal=b.amodal_pixels.numpy())
"""


def scene(kw: dict):
    """The test World of a SCENE-like dict (its `appearance` values set on the World)."""
    from synthdata.world.appearance import Appearance
    kw = dict(kw)
    appearance = kw.pop("appearance", None)
    w = random_world(kw.pop("seed"), **kw)
    if appearance:
        from synthdata.world.geometry.camera_motion import apply_camera_motion
        w.appearance = Appearance().with_values(**appearance)
        w.camera = apply_camera_motion(w.camera, w.appearance, w.num_frames, w.fps)   # shake: the pose cache
    return w


def silhouette(inst: np.ndarray) -> np.ndarray:
    """Pixels that differ from a 4-neighbour (where two surfaces meet, ties can fall either way)."""
    e = np.zeros(inst.shape, bool)
    e[:, :, 1:] |= inst[:, :, 1:] != inst[:, :, :-1]
    e[:, :, :-1] |= inst[:, :, 1:] != inst[:, :, :-1]
    e[:, 1:] |= inst[:, 1:] != inst[:, :-1]
    e[:, :-1] |= inst[:, 1:] != inst[:, :-1]
    return e


@pytest.mark.parametrize("kw", [SCENE, dict(SCENE, T=3, appearance={"shutter": 1.0, "sensor_gain": 2.0, "effects_seed": 3}),
                                dict(SCENE, cones=True),
                                dict(SCENE, T=7, width=32, height=24, appearance={"shake_deg": 0.8, "effects_seed": 4})],
                         ids=["plain", "motion-blur-noise", "tapered-limbs", "shaking-camera"])
def test_cuda_kernels_under_the_simulator_draw_what_the_cpu_draws(tmp_path, kw):
    pytest.importorskip("numba.cuda")
    out = tmp_path / "gpu.npz"
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    subprocess.run([sys.executable, "-c", SCRIPT, str(out), repr(kw)], env=env, check=True, timeout=300,
                   cwd=ROOT)
    gpu = np.load(out)
    w = scene(kw)
    cpu = Renderer(w, "cpu").render(0, w.num_frames)
    inst, rgb = cpu.instance.numpy(), cpu.rgb.numpy()
    assert (inst > 0).sum() > 200                              # the scene has objects in view
    tie = silhouette(inst) | silhouette(gpu["inst"])
    same = gpu["inst"] == inst
    assert same[~tie].all() and same.mean() > 0.99
    assert np.array_equal(gpu["part"][same & ~tie], cpu.part.numpy()[same & ~tie])
    diff = np.abs(gpu["rgb"].astype(int) - rgb.astype(int)).max(-1)
    assert diff[~tie].max() <= 1
    assert np.abs(gpu["amodal"] - cpu.amodal_pixels.numpy()).max() <= 2


def _compilers_or_skip() -> None:
    """numba-cuda and the NVVM/NVRTC compilers, which compile kernels to PTX with no GPU."""
    pytest.importorskip("numba.cuda")
    try:
        from cuda.pathfinder import load_nvidia_dynamic_lib
        load_nvidia_dynamic_lib("nvvm"), load_nvidia_dynamic_lib("nvrtc")
    except Exception as e:  # noqa: BLE001 - any failure to find the compilers
        pytest.skip(f"NVVM/NVRTC not found ({type(e).__name__}); pip install nvidia-cuda-nvcc-cu12 nvidia-cuda-nvrtc-cu12")


def _real_cuda_env() -> dict:
    """This process's environment for a child that imports the project, numba's simulator off."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    return env


def test_every_cuda_kernel_compiles_for_a_real_gpu(tmp_path):
    """The simulator executes Python; this compiles each kernel to PTX (sm_90) with NVVM for the
    argument types the simulator saw, which catches what only a real device would reject."""
    _compilers_or_skip()
    sigs = tmp_path / "sigs.pkl"
    env = _real_cuda_env()
    subprocess.run([sys.executable, "-m", "tests.cuda_compile", "record", str(sigs)], cwd=ROOT, check=True,
                   timeout=600, env=dict(env, NUMBA_ENABLE_CUDASIM="1"))
    done = subprocess.run([sys.executable, "-m", "tests.cuda_compile", "compile", str(sigs)], cwd=ROOT,
                          timeout=600, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    compiled = {line.split(":")[0] for line in done.stdout.splitlines() if line.endswith(": ok")}
    assert {"raster", "shade_hits", "shade_tone", "shade_surfaces", "light_pools", "motion_gather",
            "resample_px", "ground_px", "paint_px", "pose_rays_px"} <= compiled


CPU_THEN_CUDA = """
import types
import numpy as np
from numba import cuda, float64, njit
import numba.cuda.dispatcher as dispatcher
from synthdata.render.gpu import cuda_kernels
from synthdata.render.motion_blur import pixel_motion
cuda_kernels()                                   # registers the CUDA overloads, compiles nothing yet
row = np.zeros(12)

@njit
def on_cpu(cam):                                 # pixel_motion's IR inlined into CPU code first
    return pixel_motion(cam, cam, cam, 0.0, 0.0, 1.0, 5.0, 0.1, 0.0, 0.0, 1.0, 1.0, 0.5, 8.0)

on_cpu(row)

def kernel(cam, out):
    out[0], out[1] = pixel_motion(cam, cam, cam, 0.0, 0.0, 1.0, 5.0, 0.1, 0.0, 0.0, 1.0, 1.0, 0.5, 8.0)

dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=(9, 0))
cuda.compile_ptx(kernel, (float64[::1], float64[::1]), cc=(9, 0))
print("compiled")
"""


def test_cuda_kernels_compile_after_cpu_kernels_in_the_same_process():
    """A GPU worker compiles its CPU kernels (first run, empty cache) and then the CUDA ones: each
    `inlined` helper's CPU overload must stay out of device code. It did not (numba-cuda took the
    CPU-typed IR and failed typing `omitted` arguments), so a fresh machine's first GPU run failed."""
    _compilers_or_skip()
    done = subprocess.run([sys.executable, "-c", CPU_THEN_CUDA], cwd=ROOT, env=_real_cuda_env(), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0 and "compiled" in done.stdout, done.stderr[-3000:]


def test_a_numpy_that_numba_cuda_cannot_load_with_is_one_clear_line():
    """numba-cuda 0.30 fails its first compile under numpy 2.5 (np.row_stack is gone), which an
    H200 host's stock image has: the CUDA launchers say so before anything is launched."""
    pytest.importorskip("numba.cuda")
    code = ("import numpy; del numpy.row_stack\n"
            "from synthdata.errors import SynthdataError\n"
            "from synthdata.render.gpu import cuda_kernels\n"
            "try:\n    cuda_kernels()\nexcept SynthdataError as e:\n    print('ERR', e)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_real_cuda_env(), capture_output=True, text=True,
                          timeout=120)
    line = [s for s in done.stdout.splitlines() if s.startswith("ERR")]
    assert done.returncode == 0 and len(line) == 1, done.stderr[-2000:]
    assert "numpy < 2.5" in line[0] and "row_stack" in line[0]


def _cuda_or_skip():
    import torch
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device here (the simulator tests above run the same kernels on every commit)")


@pytest.mark.parametrize("kw", [SCENE, dict(SCENE, T=3, appearance={"shutter": 1.0, "sensor_gain": 2.0, "effects_seed": 3}),
                                dict(SCENE, cones=True, width=160, height=120)], ids=["plain", "motion-blur-noise", "tapered-limbs"])
def test_on_a_cuda_device_the_kernels_draw_what_the_cpu_draws(kw):
    _cuda_or_skip()
    w = scene(kw)
    cpu, gpu = Renderer(w, "cpu").render(0, w.num_frames), Renderer(w, "cuda").render(0, w.num_frames)
    inst, ginst = cpu.instance.numpy(), gpu.instance.cpu().numpy()
    tie = silhouette(inst) | silhouette(ginst)
    same = ginst == inst
    diff = np.abs(gpu.rgb.cpu().numpy().astype(int) - cpu.rgb.numpy().astype(int)).max(-1)
    print(f"\n{kw}: instance ids differ at {100 * (1 - same.mean()):.3f} % of pixels "
          f"({(~same & ~tie).sum()} off silhouettes); rgb max diff off ties {diff[~tie].max()}")
    assert (inst > 0).sum() > 200
    assert same[~tie].all() and same.mean() > 0.99
    assert diff[~tie].max() <= 1
    assert np.array_equal(gpu.part.cpu().numpy()[same & ~tie], cpu.part.numpy()[same & ~tie])


CUDA_RECIPES = [("parking_lot_day", []), ("street_plaza", ["scene.lighting.time_of_day=night"]),
                ("security_parking_illegal", ["scene.lighting.time_of_day=night"]), ("indoor_lobby", []),
                ("parking_lot_day", ["scene.weather.condition=rain"]), ("parking_lot_day", ["scene.sensor.shake_deg=0.3"]),
                ("security_plaza_crowd", []), ("plate_car_park", ["output.resolution=[384,216]"])]


@pytest.mark.parametrize("name,overrides", CUDA_RECIPES, ids=[f"{n}{'+' if o else ''}{','.join(o)}" for n, o in CUDA_RECIPES])
def test_on_a_cuda_device_shipped_recipes_render_as_on_the_cpu(name, overrides):
    """Whole clips through the pipeline (effects, plates, labels) on both devices: the same
    objects and boxes; pixels equal but for silhouette ties (plates match their look by torch ops on
    a GPU and by compiled passes on the CPU, so only their labels are compared)."""
    _cuda_or_skip()
    from synthdata.pipeline import render_clip
    ov = ["output.frames_per_clip=6", "output.resolution=[320,240]", "output.modalities=[instances]"] + overrides
    cpu = render_clip(str(ROOT / "recipes" / f"{name}.yaml"), 0, device="cpu", overrides=ov)
    gpu = render_clip(str(ROOT / "recipes" / f"{name}.yaml"), 0, device="cuda", overrides=ov)
    inst, ginst = cpu.dense["instances"], gpu.dense["instances"]
    tie = silhouette(inst) | silhouette(ginst)
    same = ginst == inst
    diff = np.abs(gpu.frames.astype(int) - cpu.frames.astype(int)).max(-1)
    off = diff[~tie]
    print(f"\n{name} {overrides}: {len(cpu.objects['track_id'])} object rows; ids differ at "
          f"{100 * (1 - same.mean()):.3f} % of pixels ({(~same & ~tie).sum()} off silhouettes); rgb off ties: "
          f"max {off.max()}, > 1 at {100 * (off > 1).mean():.3f} %")
    assert same[~tie].all() and same.mean() > 0.99
    for k in ("track_id", "frame"):
        assert np.array_equal(np.asarray(cpu.objects[k]), np.asarray(gpu.objects[k]))
    for k in ("x", "y", "w", "h"):     # visible boxes: a tie pixel on a box's edge may move it by one
        a, b = np.asarray(cpu.objects[k], float), np.asarray(gpu.objects[k], float)   # NaN: not in view
        assert np.array_equal(np.isnan(a), np.isnan(b)) and np.nanmax(np.abs(a - b), initial=0) <= 1
    if not name.startswith("plate"):
        assert (off > 1).mean() < 0.001


def test_the_cuda_kernels_say_once_that_they_compile(capsys, monkeypatch):
    """Building the CUDA launchers needs no GPU (numba-cuda compiles at the first launch); the
    process says once that compiling is coming, rather than going silent for tens of seconds."""
    pytest.importorskip("numba.cuda")
    from synthdata.render import backend, gpu
    if backend._simulating():
        pytest.skip("under the simulator nothing is compiled")
    monkeypatch.setattr(gpu, "_launchers", None)
    k = backend.kernels_for("cuda")
    assert "compiling the CUDA render kernels" in capsys.readouterr().err
    assert backend.kernels_for("cuda") is k and capsys.readouterr().err == ""
    assert callable(k.raster) and callable(k.motion_blur)


GROUND = """
import sys
import numpy as np
import torch
from synthdata.render.background import paint_ground
from synthdata.render.background_pass import ground_look, ground_pass_on_device
from synthdata.render.gpu import cuda_kernels
from synthdata.render.pose_cache import Reference, resample_on_device
from tests.test_render_gpu import ground_case
world, cam, rays, ref = ground_case()
k = cuda_kernels()
depth, point, gpt, ok, albedo, material = ground_pass_on_device(k, torch.from_numpy(rays), cam.C[0], cam.R[0][2],
                                                                ground_look(world.ground, world.texture_seed))
paint_ground(albedo, material, gpt, ok, world.ground, cam)
lit, dark, ralbedo, rmaterial = resample_on_device(k, ref, torch.from_numpy(rays))
np.savez(sys.argv[1], depth=depth.numpy(), point=point.numpy(), ok=ok.numpy(), albedo=albedo.numpy(),
         material=material.numpy(), lit=lit.numpy(), dark=dark.numpy(), ralbedo=ralbedo.numpy(),
         rmaterial=rmaterial.numpy(), sent=k.uploads.sent)
"""


def ground_case():
    """parking_lot_day's camera (painted bays, asphalt) at 96x72 tilted to see ground and sky, its
    rays, and a made-up reference view (random colours, albedo and materials) to read them from."""
    from synthdata.pipeline import clip_seed
    from synthdata.recipe.loader import load_recipe
    from synthdata.render.pose_cache import Reference, plan_reference
    from synthdata.world.geometry.camera_motion import apply_camera_motion
    from synthdata.world.sample import sample_clip
    from synthdata.world.simulate import simulate
    rec = load_recipe(ROOT / "recipes" / "parking_lot_day.yaml",
                      ["output.resolution=[96, 72]", "output.frames_per_clip=6", "scene.camera.tilt_deg=14"])
    world = simulate(sample_clip(rec, 0, seed=clip_seed(rec.seed, 0), clip_id="c"))
    cam = world.camera.frames(0, 1)
    rays = np.ascontiguousarray(cam.pixel_rays(0, dtype=np.float32).reshape(72, 96, 3), np.float32)
    from synthdata.world.appearance import Appearance
    shaking = apply_camera_motion(world.camera, Appearance().with_values(shake_deg=0.8), 6, world.fps)
    rcam = plan_reference(shaking)
    assert rcam is not None
    g = np.random.default_rng(3)
    ref = Reference(rcam, g.integers(0, 256, (rcam.height, rcam.width, 6), dtype=np.uint8),
                    g.random((rcam.height, rcam.width, 3), dtype=np.float32),
                    g.integers(0, 9, (rcam.height, rcam.width), dtype=np.int64))
    return world, cam, rays, ref


def test_the_ground_its_paint_and_a_pose_read_from_its_reference_are_the_cpus_on_the_cuda_path(tmp_path):
    """The CUDA kernels `ground`, `paint` and `resample` (under the simulator) against the CPU loops
    that share their per-pixel maths (background_pass.ground_pixel and painted, pose_cache)."""
    pytest.importorskip("numba.cuda")
    import torch

    from synthdata.render.background import paint_ground
    from synthdata.render.background_pass import ground_look, ground_pass
    from synthdata.render.pose_cache import resample_background
    out = tmp_path / "ground.npz"
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    subprocess.run([sys.executable, "-c", GROUND, str(out)], env=env, check=True, timeout=300, cwd=ROOT)
    gpu = np.load(out)
    world, cam, rays, ref = ground_case()
    depth, point, gpt, ok, albedo, material = ground_pass(rays, cam.C[0].astype(np.float32),
                                                          cam.R[0][2].astype(np.float32),
                                                          ground_look(world.ground, world.texture_seed))
    painted = material.copy()
    paint_ground(*(torch.from_numpy(a) for a in (albedo, material, gpt, ok)), world.ground, cam)
    assert 0 < ok.mean() < 1 and (material != painted).any()        # ground, sky and painted lines in view
    assert np.array_equal(gpu["ok"], ok) and np.array_equal(gpu["material"], material)
    np.testing.assert_allclose(gpu["depth"][ok], depth[ok], rtol=1e-6)
    np.testing.assert_allclose(gpu["point"], point, rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(gpu["albedo"], albedo, atol=1e-5)
    lit, dark, ralbedo, rmaterial = resample_background(ref, rays)
    assert np.abs(gpu["lit"].astype(int) - lit).max() <= 1 and np.abs(gpu["dark"].astype(int) - dark).max() <= 1
    assert (gpu["lit"] != lit).mean() < 0.01
    np.testing.assert_allclose(gpu["ralbedo"], ralbedo, atol=1e-5)
    assert (gpu["rmaterial"] != rmaterial).mean() < 0.01
    assert gpu["sent"] <= 40          # tables sent once each (the reference's 4 arrays, the ground's 8, ...)
