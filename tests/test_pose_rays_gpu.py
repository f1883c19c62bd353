"""A pose's rays on the CUDA path (render/gpu.py `pose_rays`, reached through
render/view_rays.world_rays) run world/geometry/camera_kernels.py's steps per pixel: executed under
numba's CUDA simulator and compared with Camera.pixel_rays, which runs the same steps on the CPU."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = """
import sys
import numpy as np
from synthdata.render import view_rays
from tests.test_pose_rays_gpu import cameras
out = {}
for name, cam in cameras().items():
    out[name] = view_rays.world_rays(cam, "cpu").numpy()         # the simulator runs the CUDA launchers
    out[name + ".settles"] = view_rays._SETTLES[cam.ray_key(0)]
np.savez(sys.argv[1], **out)
"""


def cameras() -> dict:
    """Lenses and poses that take each of the kernel's branches: no distortion, barrel distortion
    whose fold lies outside the image (the steps settle everywhere; the shipped recipes' kind),
    pincushion (no fold), a sheared frame with its principal point off centre (no mirror symmetry
    on the CPU), and a wide barrel lens whose image reaches past its fold (the CPU solves those
    pixels by bisection, so the CUDA path must hand the pose to it)."""
    from synthdata.world.geometry.camera import Camera

    def cam(**kw):
        return Camera.from_pose(40, 30, position=(1.0, -2.0, 6.5), pan_deg=25, tilt_deg=32, roll_deg=2, **kw)
    sheared = cam(hfov_deg=70, k1=-0.2, k2=0.05)
    sheared.skew, sheared.cx = np.array([0.7]), sheared.cx + 3.3
    return {"plain": cam(hfov_deg=60), "barrel": cam(hfov_deg=70, k1=-0.2, k2=0.05),
            "pincushion": cam(hfov_deg=50, k1=0.1, k2=0.02), "sheared": sheared,
            "past-fold": cam(hfov_deg=120, k1=-0.4)}


def test_a_poses_rays_on_the_cuda_path_are_the_cpus(tmp_path):
    pytest.importorskip("numba.cuda")
    out = tmp_path / "rays.npz"
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    subprocess.run([sys.executable, "-c", SCRIPT, str(out)], env=env, check=True, timeout=300, cwd=ROOT)
    gpu = np.load(out)
    for name, cam in cameras().items():
        cpu = cam.pixel_rays(0, dtype=np.float32)
        assert gpu[name].shape == cpu.shape == (30, 40, 3) and gpu[name].dtype == np.float32
        assert np.array_equal(gpu[name], cpu), name
        # every lens but the one past its fold is settled on the GPU; that one is the CPU's
        assert bool(gpu[name + ".settles"]) == (name != "past-fold"), name
    assert np.abs(np.linalg.norm(gpu["barrel"], axis=-1) - 1).max() < 1e-6
