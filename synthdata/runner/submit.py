"""Submit shards, retry them, resume a folder, finalize the dataset (DESIGN.md §1, §5).

`run_dataset` is the whole `synthdata run` job once a client exists: `prepare_run` plans the
recipe and keeps what OUT already committed (or refuses OUT), `execute` runs one task per
remaining shard (Dask key `shard-<sha[:12]>-<index>`; results are the small commit summaries)
and writes dataset.json when every shard of the plan is committed, whichever invocation commits
the last one.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from synthdata.errors import BadInput, PartialFailure
from synthdata.plan import ShardSpec, plan, recipe_sha256
from synthdata.recipe.schema import Recipe
from synthdata.runner.outdir import normalise_out, prepare_out, recorded_shas
from synthdata.runner.progress import Progress

RETRIES = 2  # extra attempts for a shard whose task raised (a lost worker is rescheduled by Dask)


@dataclass
class RunResult:
    """What one invocation did. `manifest` is the dataset.json content when it was written."""

    out: str
    shards_total: int
    shards_skipped: int = 0
    done: dict[int, dict] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    shards_remaining: int = 0
    manifest: dict | None = None
    wall_s: float = 0.0           # since the run was prepared (cluster start-up included)
    generate_s: float = 0.0       # since the workers were ready


def shard_key(spec: ShardSpec) -> str:
    """The Dask key of a shard's task: the same shard of the same recipe gets the same key."""
    return f"shard-{spec.recipe_sha256[:12]}-{spec.index}"


def render_shard(recipe: Recipe, spec: ShardSpec, out: str, device: str, helper: bool = False) -> dict:
    """The task: generate and commit one shard, return its commit summary.

    Bad input (for example `--device cuda` on a worker without CUDA) is returned as
    {"bad_input": message} instead of raised, so that Dask does not retry it."""
    from synthdata import pipeline

    try:
        return pipeline.generate_shard(recipe, spec, out, device=device, helper=helper)
    except BadInput as e:
        return {"bad_input": str(e)}


def select(specs: list[ShardSpec], shards: slice | None) -> list[ShardSpec]:
    """The shards a `--shards A:B[:C]` slice asks for (Python slice semantics over the plan)."""
    return specs if shards is None else specs[shards]


@dataclass
class RunPlan:
    """A prepared run: OUT checked and cleaned, the shards still to generate (`todo`)."""

    recipe: Recipe
    out: str
    sha: str
    specs: list[ShardSpec]
    committed: dict[int, dict]
    todo: list[ShardSpec]
    shards: slice | None
    skipped: int
    t0: float


def prepare_run(recipe: Recipe, out: str, *, shards: slice | None = None, overwrite: bool = False) -> RunPlan:
    """Plan the recipe and get OUT ready (see `prepare_out`): nothing is generated yet, so a
    bad OUT is refused before any cluster starts. Raises DatasetError for a foreign or
    unrelated OUT."""
    t0 = time.perf_counter()
    out = normalise_out(out)
    sha = recipe_sha256(recipe)
    earlier = recipe_sha256(recipe, by_path=True)      # a recipe naming files, as hashed before
    if earlier != sha and earlier in (seen := recorded_shas(out)) and sha not in seen:
        sha = earlier                                  # a dataset made then resumes under its hash
    specs = plan(recipe, sha)
    # Concurrent `--shards` invocations may be writing into OUT: only a whole-dataset run cleans
    # leftovers before it starts; any run cleans them once every shard is committed.
    committed = prepare_out(out, sha, len(specs), overwrite=overwrite, clean=shards is None)
    wanted = select(specs, shards)
    todo = [s for s in wanted if s.index not in committed]
    return RunPlan(recipe, out, sha, specs, committed, todo, shards, len(wanted) - len(todo), t0)


def execute(run: RunPlan, *, client: Any = None, device: str = "auto", retries: int = RETRIES,
            progress: Progress | None = None, cluster: str = "", helper: bool = False) -> RunResult:
    """Generate `run.todo` with `client` (None: in this process, one shard after another) and
    write dataset.json if every shard of the plan is then committed. helper: each shard task
    may use a helper thread (pipeline.generate_shard; runner/cluster.py `helper_thread`).

    Raises BadInput when the shards themselves report bad input, PartialFailure (exit 3) after
    committing every shard that could be."""
    progress = progress or Progress()
    started = time.perf_counter()
    recipe, out, todo = run.recipe, run.out, run.todo
    result = RunResult(out=out, shards_total=len(run.specs), shards_skipped=run.skipped)
    progress.emit({"event": "start", "out": out, "cluster": cluster or "this process",
                   "shards_total": len(run.specs), "shards_todo": len(todo),
                   "shards_committed": len(run.committed), "clips_todo": sum(s.num_clips for s in todo)})
    try:
        if client is None:
            _run_inline(recipe, todo, out, device, retries, result, progress, helper)
        else:
            _run_dask(client, recipe, todo, out, device, retries, result, progress, helper)
        _finalize_if_complete(run, result)
        if (result.done or result.failed) and (result.manifest is not None or run.shards is None):
            from synthdata.io.shard import clean_leftovers
            clean_leftovers(out)
    finally:
        result.wall_s = time.perf_counter() - run.t0
        result.generate_s = time.perf_counter() - started
        progress.close()
    progress.emit(done_event(result))
    if result.failed:
        lines = [(f"{len(result.failed)} of {len(todo)} shards failed; the other shards are committed; "
                  f"rerun the same command to resume")]
        lines += [f"shard {i}: {msg}" for i, msg in sorted(result.failed.items())]
        raise PartialFailure("\n".join(lines))
    return result


def run_dataset(recipe: Recipe, out: str, *, client: Any = None, device: str = "auto",
                shards: slice | None = None, overwrite: bool = False, retries: int = RETRIES,
                progress: Progress | None = None, cluster: str = "") -> RunResult:
    """Generate the recipe's dataset (or the `shards` slice of it) into OUT, resuming what OUT
    already holds: `prepare_run` then `execute`."""
    run = prepare_run(recipe, out, shards=shards, overwrite=overwrite)
    return execute(run, client=client, device=device, retries=retries, progress=progress, cluster=cluster)


def _counts(summary: dict) -> dict[str, int]:
    counts = summary.get("counts", {})
    return {k: int(counts.get(k, 0)) for k in ("clips", "frames", "objects")}


def _shard_done(spec: ShardSpec, summary: dict, result: RunResult, progress: Progress) -> None:
    if "bad_input" in summary:
        raise BadInput(summary["bad_input"])
    result.done[spec.index] = summary
    event = {"event": "shard_done", "shard": spec.index, **_counts(summary),
             "seconds": summary.get("timings", {}).get("wall")}
    progress.emit(event)


def _shard_failed(spec: ShardSpec, error: BaseException, result: RunResult, progress: Progress) -> None:
    message = describe_error(error)
    result.failed[spec.index] = message
    progress.emit({"event": "shard_failed", "shard": spec.index, "error": message})


def describe_error(error: BaseException) -> str:
    """One line for a failed shard."""
    name = type(error).__name__
    if name == "KilledWorker":
        return "its worker process died repeatedly while running it (KilledWorker: out of memory or a crash?)"
    text = " ".join(str(error).split()) or "(no message)"
    return f"{name}: {text[:300]}"


def _run_inline(recipe: Recipe, todo: list[ShardSpec], out: str, device: str, retries: int,
                result: RunResult, progress: Progress, helper: bool = False) -> None:
    for spec in todo:
        for attempt in range(retries + 1):
            try:
                summary = render_shard(recipe, spec, out, device, helper)
            except Exception as e:
                if os.environ.get("SYNTHDATA_DEBUG"):
                    raise
                if attempt == retries:
                    _shard_failed(spec, e, result, progress)
                continue
            _shard_done(spec, summary, result, progress)
            break


def _same(recipe: Recipe) -> Recipe:
    return recipe


def _run_dask(client: Any, recipe: Recipe, todo: list[ShardSpec], out: str, device: str, retries: int,
              result: RunResult, progress: Progress, helper: bool = False) -> None:
    """Dask retries a task that raised (`retries`) and reschedules one whose worker died (up to
    the scheduler's allowed-failures); a task lost some other way is resubmitted here."""
    from distributed import as_completed

    if not todo:
        return
    resources = {"GPU": 1} if device == "cuda" else None
    # The recipe travels once, as a task the scheduler can run again if the worker holding its
    # result dies (scattered data would be lost with that worker, and the shards waiting on it).
    recipe_future = client.submit(_same, recipe, key=f"recipe-{todo[0].recipe_sha256[:12]}", pure=False)
    resubmits: dict[int, int] = {}

    def submit(spec: ShardSpec) -> Any:
        n = resubmits.get(spec.index, 0)
        key = shard_key(spec) + (f"-again{n}" if n else "")
        return client.submit(render_shard, recipe_future, spec, out, device, helper, key=key, retries=retries,
                             resources=resources, pure=False)

    # One batched submission (a single message to the scheduler) rather than one per shard.
    batch = client.map(render_shard, [recipe_future] * len(todo), todo, [out] * len(todo),
                       [device] * len(todo), [helper] * len(todo), key=[shard_key(spec) for spec in todo],
                       retries=retries,
                       resources=resources, pure=False)
    futures = dict(zip(batch, todo))
    pending = as_completed(list(futures))
    try:
        for fut in pending:
            spec = futures.pop(fut)
            if fut.status == "finished":
                _shard_done(spec, fut.result(), result, progress)
            elif fut.status == "error":
                _shard_failed(spec, fut.exception(), result, progress)
            elif resubmits.get(spec.index, 0) < retries:     # lost or cancelled, not failed
                resubmits[spec.index] = resubmits.get(spec.index, 0) + 1
                again = submit(spec)
                futures[again] = spec
                pending.add(again)
            else:
                _shard_failed(spec, RuntimeError(f"its task was {fut.status} {retries + 1} times"),
                              result, progress)
            fut.release()
    finally:
        client.cancel([*futures, recipe_future])


def _finalize_if_complete(run: RunPlan, result: RunResult) -> None:
    """Write dataset.json when every shard of the plan is committed (by any invocation)."""
    from synthdata.io.manifest import read_manifest
    from synthdata.io.shard import committed_shards
    from synthdata.pipeline import finalize_dataset

    n = len(run.specs)
    markers = {**run.committed, **result.done}
    if len(markers) < n:  # other invocations (--shards slices) may have committed more
        markers = {i: m for i, m in committed_shards(run.out).items()
                   if m.get("recipe_sha256") == run.sha and i < n}
    result.shards_remaining = n - len(markers)
    if result.shards_remaining:
        return
    if not result.done:  # nothing new: keep a dataset.json this recipe already wrote
        try:
            manifest = read_manifest(run.out)
        except Exception:  # noqa: BLE001 - missing or unreadable: write it again
            manifest = None
        if manifest and manifest.get("recipe_sha256") == run.sha:
            result.manifest = manifest
            return
    timings = {"wall_s": round(time.perf_counter() - run.t0, 3), "shards_generated": len(result.done)}
    result.manifest = finalize_dataset(run.out, run.recipe, markers, timings, run.sha)


def done_event(result: RunResult) -> dict[str, Any]:
    totals = {"clips": 0, "frames": 0, "objects": 0}
    for summary in result.done.values():
        for k, v in _counts(summary).items():
            totals[k] += v
    wall, gen = result.wall_s, result.generate_s
    return {"event": "done", "out": result.out, "shards_total": result.shards_total,
            "shards_done": len(result.done), "shards_failed": len(result.failed),
            "shards_skipped": result.shards_skipped, "shards_remaining": result.shards_remaining,
            "complete": result.manifest is not None, **totals, "wall_s": round(wall, 3),
            "frames_per_s": round(totals["frames"] / gen, 2) if gen > 0 else 0.0}
