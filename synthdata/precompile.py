"""The CPU render kernels compiled on every core at once, the first time a machine needs them.

numba compiles a kernel when it is first called, in the calling process, one after another:
about two and a half minutes of one core for the kernels of a single recipe on a 2-core test
machine (the shading kernel alone takes half a minute). Kernel signatures do not depend on the
machine, so the package ships them: `synthdata/kernels.json` lists every kernel that tiny renders
of the shipped recipes and their variants compile, with the argument types it is called with,
the seconds its compile took when recorded and its rank (the recorded case that first needed it:
0 for the base recipe's, which nearly every recipe calls).

`warm_up(recipe)` (the driver of `synthdata run`, before its workers start) renders a few tiny
frames of the recipe (`synthdata preview` watches its own render the same way: `compiling`). At
the first kernel that is not in numba's on-disk cache it starts a pool of processes, one a core,
that compile the listed kernels the cache lacks (the lowest rank and the longest first; a
kernel compiled inside another one is left to it), each saving its work to the cache
(synthdata/kernel_cache.py keys it to the package's sources). From then on a kernel the render
calls that the pool is compiling is waited for and loaded from the cache, one the pool has not
started is compiled here, one not listed compiles here as it always did. Once the recipe's
kernels are in, the pool's unstarted work is dropped and what is left running is stopped (numba
writes a cache entry's code to a temporary file and renames it: a stopped compile leaves at most
an index entry without code, which numba compiles again). The list only decides what compiles
ahead and where, never what runs: a stale or missing list costs time, not results.

    synthdata precompile                  # compile every listed kernel this machine lacks
    python -m synthdata.kernel_record     # rewrite kernels.json (after changing a kernel's arguments)

tests/test_precompile.py holds the list to what the tiny renders call.
"""
from __future__ import annotations

import contextlib
import importlib
import json
import multiprocessing
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

MANIFEST = Path(__file__).with_name("kernels.json")
WARM_UP_FRAMES = 16     # enough for a turning camera's reference view and slews; milliseconds at 128 px


@dataclass(frozen=True)
class Kernel:
    """One compiled specialisation: the function ("module:qualname"), its argument types as
    numba writes them, the seconds its compile took when recorded, its rank (the recorded case
    that first called it) and whether it was first compiled inside another kernel's compile
    (which saves it to the cache too: the pool leaves it to that kernel)."""

    name: str
    signature: str
    seconds: float
    rank: int = 0
    nested: bool = False


def manifest(path: Path = MANIFEST) -> list[Kernel]:
    """The kernels listed in `path` (none if it is missing or unreadable: nothing compiles ahead)."""
    try:
        data = json.loads(path.read_text())
        return [Kernel(k["kernel"], k["signature"], float(k["seconds"]), int(k["rank"]), bool(k["nested"]))
                for k in data["kernels"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def dispatcher(name: str) -> Any:
    """The numba dispatcher named "module:qualname"."""
    module, _, qualname = name.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def argument_types(signature: str) -> tuple:
    """numba's argument types from their text ("(Array(float32, 3, 'C', False, aligned=True), int64)"),
    read with numba's type constructors and nothing else (a constant a kernel passes another,
    "Literal[int](0)", by `types.literal`)."""
    from numba.core import types

    names = {k: v for k, v in vars(types).items() if not k.startswith("_")}
    text = re.sub(r"Literal\[\w+\]\(", "literal(", signature)
    value = eval(text, {"__builtins__": {}}, names)   # noqa: S307 - numba's type names only
    return tuple(value) if isinstance(value, tuple) else (value,)


def is_cached(kernel: Kernel) -> bool:
    """Whether numba's on-disk cache holds this specialisation for this machine (False when the
    function or its types cannot be found)."""
    try:
        return _in_cache(dispatcher(kernel.name), argument_types(kernel.signature))
    except Exception:
        return False


def _in_cache(disp: Any, args: tuple) -> bool:
    """Whether dispatcher disp has code for argument types args in numba's on-disk cache (numba's
    own index key: the types, this machine's CPU and the function's bytecode; True for a numba
    whose cache does not look so: then nothing waits on the answer)."""
    try:
        key = disp._cache._index_key(args, disp.targetctx.codegen())
        return key in disp._cache._cache_file._load_index()
    except AttributeError:
        return True


def missing(kernels: list[Kernel] | None = None) -> list[Kernel]:
    """The kernels (default: the manifest's, but those compiled inside others) not in this
    machine's cache, in the order the pool takes them: the lowest rank first, the longest first
    within a rank."""
    listed = [k for k in manifest() if not k.nested] if kernels is None else kernels
    todo = [k for k in listed if not is_cached(k)]
    return sorted(todo, key=lambda k: (k.rank, -k.seconds))


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class Pool:
    """Processes compiling kernels into numba's cache, a task per function (its specialisations
    share a cache index), submitted in the order given."""

    def __init__(self, kernels: list[Kernel], processes: int):
        self.tasks: dict[str, Future] = {}
        self._executor = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))
        groups: dict[str, list[Kernel]] = {}
        for k in kernels:
            groups.setdefault(k.name, []).append(k)
        for name, group in groups.items():
            self.tasks[name] = self._executor.submit(_compile_group, [(k.name, k.signature) for k in group])

    def claim(self, name: str) -> bool:
        """Before this process compiles `name`: True when the pool compiled it (waited for if it is
        running; then it loads from the cache), False when this process should (not the pool's,
        not started yet: taken back, or failed there)."""
        fut = self.tasks.get(name)
        if fut is None or fut.cancel():
            return False
        try:
            return all(fut.result())
        except Exception:
            return False

    def stop(self) -> None:
        """Drop the unstarted tasks and stop the running ones (see the module docstring for what a
        stopped compile leaves in the cache)."""
        for fut in self.tasks.values():
            fut.cancel()
        for proc in list(getattr(self._executor, "_processes", {}).values()):
            with contextlib.suppress(Exception):
                proc.terminate()
        self._executor.shutdown(wait=True, cancel_futures=True)

    def join(self) -> None:
        self._executor.shutdown(wait=True)


def _compile_group(group: list[tuple[str, str]]) -> list[bool]:
    """In a pool process: compile each (name, signature) into the cache; False where it failed."""
    oks = []
    for name, signature in group:
        try:
            dispatcher(name).compile(argument_types(signature))
            oks.append(True)
        except Exception:
            oks.append(False)
    return oks


@contextlib.contextmanager
def compiles_hooked(before: Callable[[Any, Any, int], None], after: Callable[[Any, Any, int, float], None]
                     ) -> Iterator[None]:
    """Within: before(dispatcher, sig, depth) and after(dispatcher, sig, depth, seconds) around
    every numba compile in this process, from any thread (depth 0: called from Python, not from
    inside a kernel's compile)."""
    from numba.core.dispatcher import Dispatcher

    original = Dispatcher.compile
    local = threading.local()

    def compile_(self: Any, sig: Any) -> Any:
        depth = getattr(local, "depth", 0)
        before(self, sig, depth)
        local.depth = depth + 1
        t0 = time.perf_counter()
        try:
            return original(self, sig)
        finally:
            local.depth = depth
            after(self, sig, depth, time.perf_counter() - t0)

    Dispatcher.compile = compile_
    try:
        yield
    finally:
        Dispatcher.compile = original


def kernel_name(disp: Any) -> str:
    """A dispatcher's "module:qualname"."""
    return f"{disp.py_func.__module__}:{disp.py_func.__qualname__}"


def warm_up(recipe: Any, say: Callable[[str], None] | None = None, processes: int | None = None) -> float | None:
    """Have every CPU kernel `recipe` calls in numba's cache, by rendering WARM_UP_FRAMES tiny
    frames of it within `compiling`: None when nothing compiled (or every listed kernel was cached already, and
    nothing was rendered), else the seconds it took."""
    if not missing():
        return None
    with compiling(say, processes) as took:
        tiny_render(recipe, frames=WARM_UP_FRAMES)
    seconds = took()
    if seconds is not None and say:
        say(f"synthdata: render kernels compiled in {seconds:.0f} s")
    return seconds


@contextlib.contextmanager
def compiling(say: Callable[[str], None] | None = None, processes: int | None = None
              ) -> Iterator[Callable[[], float | None]]:
    """Within, at the first kernel called (from any thread) that is not in the cache, a Pool of
    one process a core starts on the listed kernels the cache lacks (see the module docstring);
    the pool stops on the way out. Yields a function that says, once out, the seconds from the
    first compile on (None: nothing compiled). say(line): a line when compiling starts, in place
    of render/backend.py's."""
    from synthdata.render import backend

    backend.announced()
    lock = threading.Lock()
    state: dict[str, Any] = {"t0": None, "pool": None, "seconds": None}

    def before(disp: Any, sig: Any, depth: int) -> None:
        if depth > 0:
            return
        with lock:
            started = state["t0"] is not None
            if not started and not _in_cache(disp, tuple(sig)):
                state["t0"] = time.perf_counter()     # the first compile: done here, a pool does the rest
                state["pool"] = _start(say, processes, exclude=(kernel_name(disp), str(sig)))
                return
        if started and state["pool"] is not None:
            state["pool"].claim(kernel_name(disp))

    try:
        with compiles_hooked(before, lambda *a: None):
            yield lambda: state["seconds"]
    finally:
        if state["pool"] is not None:
            state["pool"].stop()
        if state["t0"] is not None:
            state["seconds"] = time.perf_counter() - state["t0"]


def _start(say: Callable[[str], None] | None, processes: int | None, exclude: tuple[str, str]) -> Pool | None:
    """The pool for the listed kernels the cache lacks but `exclude` (compiled by the caller), and
    the first line for the user; None on one core (all compile as called) or where no process can
    start."""
    todo = [k for k in missing() if (k.name, k.signature) != exclude]
    cpus = processes or cores()
    n = min(cpus, len({k.name for k in todo})) if cpus > 1 else 0
    if say:
        say(f"synthdata: compiling render kernels for this machine on {cpus} core(s) (first run only; "
            f"about {_estimate(todo, max(n, 1))} here, later runs load them from numba's cache) ...")
    try:
        return Pool(todo, n) if n > 0 else None
    except (OSError, NotImplementedError, ValueError):
        return None


def _estimate(todo: list[Kernel], n: int) -> str:
    """The wall time the base recipe's missing kernels (rank 0: what nearly every recipe calls)
    took to compile when recorded, spread over n processes (the largest alone bounds it), as
    "N s" or "N min"."""
    base = [k.seconds for k in todo if k.rank == 0] or [k.seconds for k in todo]
    total, longest = sum(base), max(base, default=0.0)
    s = max(total / max(n, 1), longest, 10.0)
    return f"{s:.0f} s" if s < 90 else f"{s / 60:.0f} min"


def tiny_render(recipe: Any, overrides: list[str] | None = None, frames: int = 2) -> None:
    """Render `frames` frames of a recipe (a path or a Recipe) at 128 pixels wide, its aspect kept
    (a plate layout refuses another): the kernels its clips call, at almost no cost once compiled."""
    from synthdata.pipeline import generate_clip

    if isinstance(recipe, (str, Path)):
        from synthdata.recipe.loader import load_recipe

        recipe = load_recipe(str(recipe), list(overrides or []))
    small = recipe.model_copy(deep=True)
    w, h = recipe.output.resolution
    small.output.resolution = (128, max(16, 2 * round(64 * h / w)))
    small.output.frames_per_clip, small.output.chunk_frames = frames, frames
    for _ in generate_clip(small, 0, device="cpu").chunks:
        pass


def compile_missing(processes: int | None = None, say: Callable[[str], None] | None = None) -> tuple[int, int]:
    """Compile every listed kernel the cache lacks in a Pool of `processes` (default one a core);
    say(line) as each function is done. Returns (compiled, missing before)."""
    todo = missing()
    if not todo:
        return 0, 0
    names = {k.name for k in todo}
    pool = Pool(todo, min(processes or cores(), len(names)))
    done = 0
    for k, (name, fut) in enumerate(_as_done(pool.tasks), 1):
        oks = fut.exception() is None and fut.result()
        done += sum(oks) if oks else 0
        if say:
            say(f"  {k}/{len(names)} {name}{'' if oks and all(oks) else ' (failed: it compiles when called)'}")
    pool.join()
    return done, len(todo)


def _as_done(tasks: dict[str, Future]) -> Iterator[tuple[str, Future]]:
    """(name, future) of tasks as they finish."""
    names = {fut: name for name, fut in tasks.items()}
    for fut in as_completed(names):
        yield names[fut], fut


@click.command("precompile")
@click.option("--processes", type=click.IntRange(1, 1024), default=None, help="compiling processes (default: one a core)")
@click.option("--quiet", "-q", is_flag=True, help="no line per kernel")
def precompile_command(processes: int | None, quiet: bool) -> None:
    """Compile every CPU render kernel numba's cache lacks on this machine, one process a core.

    Runs and previews do this for what they need on their own; this compiles every kernel the
    package lists (synthdata/kernels.json) ahead, e.g. once on a cluster's compute node before
    workers started by hand (docs/slurm.md). Later runs load them from the cache."""
    t0 = time.perf_counter()
    done, todo = compile_missing(processes, None if quiet else click.echo)
    click.echo(f"{todo} kernel(s) were not in numba's cache; {done} compiled in {time.perf_counter() - t0:.0f} s")


def main(argv: list[str] | None = None) -> int:
    """`python -m synthdata.precompile`: `synthdata precompile`."""
    return precompile_command.main(sys.argv[1:] if argv is None else argv, prog_name="python -m synthdata.precompile")


if __name__ == "__main__":
    sys.exit(main())
