"""The kernels compiled ahead, on every core (synthdata/precompile.py): the shipped list matches
what renders call, its types read back, and a pool of processes fills numba's cache that the
caller then loads from."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from synthdata import precompile

ROOT = Path(__file__).resolve().parents[1]


# in a test's fresh process: two small listed kernels (about a second each to compile)
PICK = ("small = sorted((k for k in precompile.manifest() if not k.nested), key=lambda k: k.seconds); "
        "pick = [k for k in small if k.name.startswith('synthdata.labels.rle:')][:1] + "
        "[k for k in small if k.name.startswith('synthdata.world.geometry.shapes:')][:1]")


def _python(code: str, env: dict | None = None, timeout: int = 600) -> str:
    """Run code in a fresh Python (numba's state starts empty there); its stdout."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_manifest_types_read_back_as_written():
    kernels = precompile.manifest()
    assert len(kernels) >= 20 and {k.rank for k in kernels} >= {0}
    names = {k.name for k in kernels}
    assert {"synthdata.render.kernels:raster", "synthdata.render.kernels:_shade_hits"} <= names
    for k in kernels:
        assert str(precompile.argument_types(k.signature)) == k.signature, k.name
        assert k.seconds >= 0


def test_argument_types_reads_numba_types_and_nothing_else():
    from numba.core import types

    assert precompile.argument_types("(Array(float32, 3, 'C', False, aligned=True), int64)") == (
        types.Array(types.float32, 3, "C"), types.int64)
    with pytest.raises(Exception):
        precompile.argument_types("(__import__('os').getcwd(),)")


def test_manifest_lists_every_kernel_the_recorded_cases_call():
    """A kernel whose arguments changed, or a new one, shows here: rerun
    `python -m synthdata.kernel_record`."""
    out = _python("""
        import json
        from pathlib import Path
        from synthdata import kernel_record, precompile
        seen = set()
        def after(disp, sig, depth, seconds):
            name = precompile.kernel_name(disp)
            if name.startswith("synthdata.") and type(disp._cache).__name__ != "NullCache":
                seen.add((name, str(sig)))
        with precompile.compiles_hooked(lambda *a: None, after):
            for recipe, overrides, frames in kernel_record.record_cases(Path("recipes")):
                precompile.tiny_render(recipe, overrides, frames)
        print(json.dumps(sorted(seen)))
    """)
    seen = {tuple(x) for x in json.loads(out.strip().splitlines()[-1])}
    listed = {(k.name, k.signature) for k in precompile.manifest()}
    assert seen, "no kernel was called"
    assert not seen - listed, f"not in synthdata/kernels.json (run python -m synthdata.kernel_record): " \
                              f"{sorted(seen - listed)[:3]}"


def test_a_pool_compiles_into_the_cache_and_warm_up_loads_from_it(tmp_path):
    """In a fresh cache, with two small kernels listed: a stand-in render calls both; the first
    compiles here and starts a pool, which compiles the second while this process waits for it
    and then loads it. Both are cached after, a message said so, and a second warm-up has
    nothing to do."""
    out = _python(f"""
        from synthdata import precompile
        {PICK}
        assert len(pick) == 2, pick
        assert not any(precompile.is_cached(k) for k in pick)
        precompile.manifest = lambda path=None: pick
        calls = []
        def render(recipe, overrides=None, frames=2):     # what the recipe's clips would call: the two kernels
            for k in pick:
                calls.append(k.name)
                precompile.dispatcher(k.name).compile(precompile.argument_types(k.signature))
        precompile.tiny_render = render
        lines = []
        seconds = precompile.warm_up(None, lines.append, processes=2)
        print(seconds is not None, all(precompile.is_cached(k) for k in pick), len(calls), len(lines))
        print(precompile.warm_up(None, lines.append, processes=2))
    """, env={"NUMBA_CACHE_DIR": str(tmp_path / "cache")})
    first, second = out.strip().splitlines()[-2:]
    assert first == "True True 2 2"
    assert second == "None"


def test_the_precompile_command_compiles_what_the_cache_lacks(tmp_path):
    out = _python(f"""
        from synthdata import precompile
        from synthdata.cli import main
        {PICK}
        precompile.manifest = lambda path=None: pick
        for _ in range(2):
            try:
                main(["precompile", "--processes", "2"])
            except SystemExit as e:
                assert not e.code, e.code
        print(all(precompile.is_cached(k) for k in pick))
    """, env={"NUMBA_CACHE_DIR": str(tmp_path / "cache")})
    lines = out.strip().splitlines()
    assert lines[-1] == "True"
    assert lines[-2].startswith("0 kernel(s) were not in numba's cache; 0 compiled")
    assert lines[-3].startswith("2 kernel(s) were not in numba's cache; 2 compiled")
    assert {ln.split()[0] for ln in lines[-5:-3]} == {"1/2", "2/2"}
