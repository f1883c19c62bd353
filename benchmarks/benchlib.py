"""Shared helpers of the benchmark scripts: the benchmark recipe, timing, machine facts and the
final `RESULT` line.

Every script measures its figure and its reference in the same run (this kind of machine is
noisy; a number from another run is never a fair reference), repeats each measurement and keeps
the best, and ends with exactly one line

    RESULT <name> ratio=<x> target=<y> pass|fail|skip [note]

where the target is met when ratio >= target.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# the environment as the user started the benchmark: importing synthdata sets variables (see
# synthdata/__init__.py) that a process measuring another checkout must not inherit from this one
START_ENV = dict(os.environ)
RECIPE = ROOT / "recipes" / "parking_lot_day.yaml"

# Used when recipes/parking_lot_day.yaml is not there: a daytime parking lot with 8 people and
# 3 vehicles, the scene the performance targets are stated for.
FALLBACK_RECIPE = """\
name: bench_parking_lot
seed: 1234
output:
  clips: 1
  clips_per_shard: 1
  frames_per_clip: 64
  fps: 12.5
  resolution: [640, 480]
scene:
  layout: {type: parking_lot}
  camera: {height_m: 6.0, tilt_deg: 30.0, hfov_deg: 70.0}
  lighting: {time_of_day: day}
actors:
  - {type: person, count: 8, behavior: {choice: {walk: 0.7, loiter: 0.15, stand: 0.15}}}
  - {type: vehicle, count: 3, behavior: {choice: {drive: 0.5, parked: 0.5}}}
"""


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="tiny sizes, one repeat: finishes in seconds")
    p.add_argument("--repeat", type=int, default=None, help="repeats of each measurement (best is kept)")
    return p


def repeats(args: argparse.Namespace, default: int) -> int:
    return max(1, args.repeat if args.repeat is not None else (1 if args.quick else default))


def bench_recipe(*, width: int, height: int, frames: int, clips: int = 1, clips_per_shard: int | None = None,
                 overrides: list[str] | tuple[str, ...] = (), recipe: str | None = None) -> tuple[Any, str]:
    """The benchmark recipe (recipes/parking_lot_day.yaml, else the inline fallback) resized.
    Returns (Recipe, where it came from)."""
    from synthdata.recipe.loader import load_recipe

    path = Path(recipe) if recipe else RECIPE
    if path.exists():
        w0, h0 = load_recipe(str(path), list(overrides)).output.resolution
        if (w0, h0) != (width, height) and _is_plate(str(path)):   # a plate fixes the picture's shape
            height = max(2, int(round(width * h0 / w0 / 2)) * 2)
    sized = [f"output.resolution=[{width}, {height}]", f"output.frames_per_clip={frames}",
             f"output.clips={clips}", f"output.clips_per_shard={clips_per_shard or clips}", *overrides]
    if path.exists():
        return load_recipe(str(path), sized), str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    if recipe:
        raise SystemExit(f"{recipe}: no such recipe")
    return load_recipe(FALLBACK_RECIPE, sized, source="<fallback recipe>"), "inline fallback (8 people, 3 vehicles)"


def _is_plate(path: str) -> bool:
    """Whether a recipe file composites onto a plate, itself or in an entry of its `mix` (its picture
    size must keep the plate's shape)."""
    import yaml

    data = yaml.safe_load(Path(path).read_text()) or {}
    layout = (data.get("scene") or {}).get("layout") or {}
    if isinstance(layout, dict) and layout.get("type") == "plate":
        return True
    for entry in data.get("mix") or []:
        if not isinstance(entry, dict):
            continue
        if entry.get("recipe") and _is_plate(str(Path(path).parent / entry["recipe"])):
            return True
        layout = (entry.get("scene") or {}).get("layout") or {}
        if isinstance(layout, dict) and layout.get("type") == "plate":
            return True
    return False


def set_threads(n: int) -> None:
    """torch intra-op threads of this process (a synthdata Dask worker uses 1)."""
    import torch

    torch.set_num_threads(max(1, n))


def best_of(n: int, fn: Callable[[], Any]) -> tuple[float, list[float], Any]:
    """Run fn n times; (best seconds, all seconds, the value of the best run)."""
    times, best_value, best = [], None, float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        value = fn()
        dt = time.perf_counter() - t0
        times.append(dt)
        if dt < best:
            best, best_value = dt, value
    return best, times, best_value


def in_checkout(root: str, code: str, marker: str, env: dict[str, str] | None = None) -> float:
    """Run `code` in a fresh 1-thread process with the package at checkout `root` (PYTHONPATH)
    and `env` added to the environment the benchmark started with; return the number it prints
    after `marker`. A failure stops the benchmark with its stderr."""
    env = dict(START_ENV, PYTHONPATH=root, PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1", **(env or {}))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root)
    if proc.returncode:
        raise SystemExit(f"{root}: the measurement failed:\n{proc.stderr[-2000:]}")
    return float(proc.stdout.split(marker)[-1])


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ram_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return float("nan")


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def print_machine() -> None:
    """One line: cores, CPU model, RAM, versions, torch threads (when torch is loaded), load."""
    from importlib.metadata import version

    torch = sys.modules.get("torch")
    threads = f", torch threads {torch.get_num_threads()}" if torch is not None else ""
    print(f"machine: {os.cpu_count()} cores ({cpu_model()}), {ram_gb():.1f} GiB RAM, "
          f"python {platform.python_version()}, torch {version('torch')}{threads}, "
          f"load average {load_average()}")


def _status_mb(key: str) -> float | None:
    """A memory figure of this process from /proc/self/status (e.g. VmHWM, VmRSS), MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def rss_peak_mb() -> float:
    """Peak resident set size of this process so far, MiB (VmHWM; ru_maxrss as fallback)."""
    peak = _status_mb("VmHWM")
    if peak is None:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return peak


def rss_now_mb() -> float:
    """Resident set size of this process now, MiB (nan where /proc is missing)."""
    now = _status_mb("VmRSS")
    return float("nan") if now is None else now


def fmt_times(times: list[float]) -> str:
    return "[" + ", ".join(f"{t:.3f}" for t in times) + "] s"


def result(name: str, ratio: float, target: float, note: str = "") -> bool:
    """Print the final RESULT line; True when the target is met (ratio >= target)."""
    ok = ratio >= target
    line = f"RESULT {name} ratio={ratio:.3f} target={target:g} {'pass' if ok else 'fail'}"
    print(line + (f" {note}" if note else ""), flush=True)
    return ok


def skip(name: str, target: float, why: str) -> None:
    """Print the RESULT line of a benchmark that cannot run here, and exit 0."""
    print(f"RESULT {name} ratio=n/a target={target:g} skip ({why})", flush=True)
    sys.exit(0)
