"""Writes synthdata/kernels.json, the list synthdata/precompile.py compiles ahead: every kernel
that tiny renders of the shipped recipes and their variants compile, with its argument types, its
compile seconds and the case that first needed it.

    python -m synthdata.kernel_record     # after changing a kernel's arguments (tests/test_precompile.py says so)

It needs a process where numba has loaded nothing (it points numba at an empty cache first).
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from synthdata.precompile import MANIFEST, Kernel, compiles_hooked, kernel_name, tiny_render

# recorded after the shipped recipes (the base one first): the variants that reach other kernels,
# with the frames they render (a camera that turns takes a reference view from a few poses on)
VARIANT_BASE = "parking_lot_day"
VARIANTS = {"ptz": (["scene.sensor.ptz.enabled=true"], 16), "shake": (["scene.sensor.shake_deg=0.3"], 16),
            "night": (["scene.lighting.time_of_day=night"], 2), "rain": (["scene.weather.condition=rain"], 2),
            "fog": (["scene.weather.condition=fog"], 2),
            "dense": (["output.modalities=[rgb,depth,flow,backflow,instances,classes]"], 2)}


def record_cases(folder: Path) -> list[tuple[str, list[str], int]]:
    """(recipe path, overrides, frames) rendered by `record`: the base recipe, the other shipped
    ones, then the base recipe's VARIANTS."""
    base = folder / f"{VARIANT_BASE}.yaml"
    cases = [(str(base), [], 2)] + [(str(p), [], 2) for p in sorted(folder.glob("*.yaml")) if p != base]
    return cases + [(str(base), v, n) for v, n in VARIANTS.values()]


def record(path: Path = MANIFEST, recipes: Path | None = None) -> list[Kernel]:
    """Tiny renders of `record_cases` in this process with a fresh numba cache; writes to `path`
    every cached synthdata kernel compiled, with its types, compile seconds and the case that
    first called it. Kernels compiled from inside another one are listed too: a later process may
    load the caller from the cache and then call them from Python. Needs a process where numba has
    not loaded anything (`python -m synthdata.kernel_record`)."""
    if "numba" in sys.modules:
        raise RuntimeError("record() needs a fresh process: numba is imported already")
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="synthdata-record-")
    from synthdata.refine import apply      # the bfloat16 refiner's kernels too, on any CPU (emulated
    apply.native_bfloat16 = lambda: True    # where it lacks bfloat16; its fused pass needs oneDNN's)
    found: dict[tuple[str, str], Kernel] = {}
    rank = [0]

    def after(disp: Any, sig: Any, depth: int, seconds: float) -> None:
        name = kernel_name(disp)
        cached = type(getattr(disp, "_cache", None)).__name__ != "NullCache"
        if cached and name.startswith("synthdata.") and (name, str(sig)) not in found:
            found[(name, str(sig))] = Kernel(name, str(sig), round(seconds, 2), rank[0], depth > 0)

    folder = recipes or Path(__file__).resolve().parent.parent / "recipes"
    with compiles_hooked(lambda *a: None, after):
        for i, (recipe, overrides, frames) in enumerate(record_cases(folder)):
            rank[0] = i
            tiny_render(recipe, overrides, frames)
    import numba

    kernels = sorted(found.values(), key=lambda k: (k.rank, k.name, k.signature))
    path.write_text(json.dumps({"numba": numba.__version__, "recorded_with": "python -m synthdata.kernel_record",
                                "kernels": [{"kernel": k.name, "signature": k.signature, "seconds": k.seconds,
                                             "rank": k.rank, "nested": k.nested} for k in kernels]}, indent=1) + "\n")
    return kernels


def main(argv: list[str] | None = None) -> int:
    if sys.argv[1:] if argv is None else argv:
        print("usage: python -m synthdata.kernel_record   (no arguments; writes synthdata/kernels.json)",
              file=sys.stderr)
        return 2
    kernels = record()
    top = [k for k in kernels if not k.nested]
    print(f"wrote {MANIFEST} ({len(top)} kernels called from Python, {sum(k.seconds for k in top):.0f} s of "
          f"compiling; {len(kernels) - len(top)} compiled inside them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
