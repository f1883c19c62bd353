"""First check on a CUDA host (gpu_host.sh runs it before anything long): the versions, how long
the CPU and the CUDA kernels take to compile or load in a fresh process, and one small scene drawn
on both devices. Exits non-zero when the CUDA path cannot run, so the long steps are not started.

    python benchmarks/gpu_smoke.py
"""
from __future__ import annotations

import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main() -> int:
    import numba
    import numpy as np
    import torch
    from numba import cuda

    try:
        from importlib.metadata import version
        nc = version("numba-cuda")
    except Exception:                       # noqa: BLE001 - only for the printout
        nc = "?"
    print(f"numba {numba.__version__}, numba-cuda {nc}, torch {torch.__version__}, numpy {np.__version__}, "
          f"torch sees cuda: {torch.cuda.is_available()}, numba sees cuda: {cuda.is_available()}", flush=True)
    if not torch.cuda.is_available():
        print("no CUDA device visible to torch")
        return 1
    from synthdata.render.backend import kernels_for
    from synthdata.render.renderer import Renderer
    from tests.test_render_gpu import SCENE, scene, silhouette

    w = scene(dict(SCENE, width=160, height=120))
    t0 = time.perf_counter()
    kernels_for("cpu")
    cpu = Renderer(w, "cpu").render(0, w.num_frames)
    t1 = time.perf_counter()
    gpu = Renderer(w, "cuda").render(0, w.num_frames)
    torch.cuda.synchronize()
    t2 = time.perf_counter()
    print(f"first CPU render (kernels compiled or loaded): {t1 - t0:.1f} s; first CUDA render (kernels "
          f"compiled): {t2 - t1:.1f} s", flush=True)
    inst, ginst = cpu.instance.numpy(), gpu.instance.cpu().numpy()
    tie = silhouette(inst) | silhouette(ginst)
    diff = np.abs(gpu.rgb.cpu().numpy().astype(int) - cpu.rgb.numpy().astype(int)).max(-1)
    same = (ginst == inst)
    print(f"{int((inst > 0).sum())} object pixels; ids equal off silhouettes: {bool(same[~tie].all())}; "
          f"rgb max diff off silhouettes: {int(diff[~tie].max())}")
    return 0 if same[~tie].all() and (inst > 0).sum() > 200 else 1


if __name__ == "__main__":
    sys.exit(main())
