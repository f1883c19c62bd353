"""Compile every CUDA kernel of render/gpu.py to PTX for a Hopper GPU without a GPU.

numba's CUDA simulator runs the kernels as Python, so code it accepts can still fail to compile
for a real device (it did: numba-cuda rejects IR inlined by numba's core). Two steps, each its own
process since the simulator is switched on at import:

    python -m tests.cuda_compile record SIGS.pkl   # under NUMBA_ENABLE_CUDASIM=1: render scenes
                                                   # that launch every kernel, keep argument types
    python -m tests.cuda_compile compile SIGS.pkl  # compile each kernel for those types (NVVM);
                                                   # prints one line per kernel, exits 1 on a failure
"""
from __future__ import annotations

import pickle
import sys
import types

SCENES = [  # (recipe, overrides) rendered tiny: cars at night (vehicle light pools), rain (wet ground:
    # two-pass background shading); then test scenes with fabrics and with motion blur
    ("recipes/security_parking_illegal.yaml", ["scene.lighting.time_of_day=night"]),
    ("recipes/parking_lot_day.yaml", ["scene.weather.condition=rain"]),
]


def record(path: str) -> None:
    import numba
    import numba.cuda.simulator.kernel as sim

    sigs: dict[str, set] = {}
    launch = sim.FakeCUDAKernel.__call__

    def typed(a):
        return numba.typeof(getattr(a, "_ary", a))

    def recording(self, *args):
        if not (self._device or sim._kernel_context):
            sigs.setdefault(self.fn.__name__, set()).add(tuple(typed(a) for a in args))
        return launch(self, *args)

    sim.FakeCUDAKernel.__call__ = recording
    from synthdata.pipeline import render_clip
    from synthdata.render.renderer import Renderer
    from tests.test_render_gpu import SCENE, scene
    for recipe, overrides in SCENES:
        render_clip(recipe, 0, device="cpu",
                    overrides=["output.frames_per_clip=2", "output.resolution=[24,16]"] + overrides)
    for kw in (dict(SCENE, width=32, height=24), dict(SCENE, width=32, height=24, appearance={"shutter": 1.0}),
               dict(SCENE, T=7, width=32, height=24, appearance={"shake_deg": 0.8})):   # a pose cache: resample
        w = scene(kw)
        Renderer(w, "cpu").render(0, w.num_frames)
    with open(path, "wb") as f:
        pickle.dump({k: sorted(v, key=str) for k, v in sigs.items()}, f)


def kernels() -> dict:
    """The numba-cuda dispatchers behind render/gpu.py's launchers, by kernel name."""
    from synthdata.render import gpu
    found: dict = {}

    def walk(fn, depth=0):
        for cell in getattr(fn, "__closure__", None) or ():
            v = cell.cell_contents
            if type(v).__name__ == "CUDADispatcher":
                found[v.py_func.__name__] = v
            elif callable(v) and depth < 3:
                walk(v, depth + 1)
    for launcher in vars(gpu._build()).values():
        walk(launcher)
    return found


def compile_all(path: str, cc: tuple = (9, 0)) -> int:
    import numba.cuda.dispatcher as dispatcher
    from numba import cuda

    # device functions ask the current GPU for its compute capability: answer for the target one
    dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=cc)
    with open(path, "rb") as f:
        sigs = pickle.load(f)
    found, failures = kernels(), 0
    for name in sorted(set(found) | set(sigs)):
        for sig in sigs.get(name, [None]):
            try:
                if sig is None:
                    raise RuntimeError("no scene launched it")
                cuda.compile_ptx(found[name].py_func, sig, cc=cc)
                print(f"{name}: ok")
            except Exception as e:  # noqa: BLE001 - reported, then the exit code
                failures += 1
                print(f"{name}: FAILED {type(e).__name__}: {str(e)[:2000]}")
    return 1 if failures else 0


if __name__ == "__main__":
    step, out = sys.argv[1], sys.argv[2]
    if step == "record":
        record(out)
    else:
        sys.exit(compile_all(out))
