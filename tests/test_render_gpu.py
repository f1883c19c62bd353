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
        w.appearance = Appearance().with_values(**appearance)
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
                                dict(SCENE, cones=True)],
                         ids=["plain", "motion-blur-noise", "tapered-limbs"])
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
