"""`synthdata run RECIPE [KEY=VALUE ...] --out DIR`: generate a dataset (DESIGN.md §5)."""
from __future__ import annotations

import contextlib
import os
import signal
import sys

import click

from synthdata.errors import BadInput
from synthdata.runner.cluster import (ClusterOptions, SlurmOptions, describe, helper_thread, open_client,
                                      parse_duration)
from synthdata.runner.progress import LOG_FORMATS, make_progress

SLURM_ONLY = ("queue", "account", "walltime", "jobs", "job_cores", "job_memory", "gpus_per_job",
              "lifetime", "lifetime_stagger", "job_extra")


def parse_shards(text: str | None) -> slice | None:
    """`A:B[:C]` with Python slice semantics over shard indices; a single `A` means `A:A+1`."""
    if text is None:
        return None
    parts = text.split(":")
    try:
        if len(parts) == 1:
            i = int(parts[0])
            return slice(i, i + 1 if i != -1 else None)
        if len(parts) > 3:
            raise ValueError
        values = [int(p) if p.strip() else None for p in parts]
    except ValueError:
        raise BadInput(f"--shards: expected A:B or A:B:STEP (Python slice over shard indices), "
                       f"got {text!r}") from None
    if len(values) == 3 and values[2] == 0:
        raise BadInput("--shards: the step cannot be 0")
    return slice(*values)


def _compile_kernels(recipe, quiet: bool) -> None:
    """When CPU render kernels are not in numba's cache yet, compile them here, on every core
    (synthdata/precompile.py), so the workers started next load them from the cache instead of
    each compiling them; a message and the time it took unless quiet."""
    from synthdata.precompile import warm_up

    warm_up(recipe, None if quiet else (lambda line: print(line, file=sys.stderr, flush=True)))


def _device(device: str, options: ClusterOptions) -> str:
    """Resolve `auto` where the driver knows the workers' hardware (local clusters, SLURM)."""
    if options.scheduler:
        return device  # workers of an existing cluster decide `auto` for themselves
    if options.slurm:
        if device == "cuda" and not options.slurm.gpus_per_job:
            raise BadInput("--device cuda with --slurm needs --gpus-per-job N")
        return device if device != "auto" else ("cuda" if options.slurm.gpus_per_job else "cpu")
    from synthdata.pipeline import resolve_device

    return resolve_device(device).type


@click.command("run", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.argument("overrides", nargs=-1)
@click.option("--out", "-o", required=True, help="Output folder or URL (s3://bucket/prefix).")
@click.option("--overwrite", is_flag=True,
              help="Replace a dataset made from a different recipe (only synthdata's own files are removed).")
@click.option("--shards", metavar="A:B[:STEP]",
              help="Generate only these shards (Python slice over shard indices), e.g. for array jobs.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--workers", type=click.IntRange(min=0),
              help="Local worker processes (default: one per core; with CUDA up to 16 per GPU, as cores "
                   "and GPU memory allow); "
                   "0 runs shards one by one in this process without Dask (debugging).")
@click.option("--threads-per-worker", type=click.IntRange(min=1),
              help="torch threads in each worker process (default 1).")
@click.option("--scheduler", metavar="ADDRESS",
              help="Use an existing Dask scheduler, e.g. tcp://host:8786 (default: $DASK_SCHEDULER_ADDRESS).")
@click.option("--slurm", is_flag=True, help="Start Dask workers as SLURM jobs (needs synthdata[slurm]).")
@click.option("--queue", help="SLURM partition.")
@click.option("--account", help="SLURM account.")
@click.option("--walltime", default="01:00:00", show_default=True, help="SLURM walltime of each worker job.")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="SLURM worker jobs.")
@click.option("--job-cores", type=click.IntRange(min=1), default=8, show_default=True,
              help="CPU cores per SLURM job (one worker process per core without GPUs).")
@click.option("--job-memory", default="32GB", show_default=True, help="Memory per SLURM job.")
@click.option("--gpus-per-job", type=click.IntRange(min=0), default=0, show_default=True,
              help="GPUs per SLURM job: one worker process per GPU, each offering GPU=1.")
@click.option("--lifetime", metavar="TIME",
              help="Workers retire after this long (default: walltime minus 5 minutes).")
@click.option("--lifetime-stagger", metavar="TIME", help="Spread of worker retirement (default 2m).")
@click.option("--job-extra", multiple=True, metavar="DIRECTIVE",
              help="Extra #SBATCH directive, e.g. --job-extra=--constraint=a100 (repeatable).")
@click.option("--dashboard", metavar="ADDRESS",
              help="Serve the Dask dashboard here, e.g. :8787 (needs bokeh).")
@click.option("--retries", type=click.IntRange(min=0), default=2, show_default=True,
              help="Extra attempts for a shard whose task failed.")
@click.option("--log-format", type=click.Choice(LOG_FORMATS), default="auto", show_default=True,
              help="auto: a bar on a terminal, JSON lines (stdout) otherwise.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@click.option("--verbose", is_flag=True, help="Let Dask's own logging and warnings through.")
@click.option("--report", "report", is_flag=True,
              help="When the dataset is complete, write its HTML quality report to OUT/report.html.")
@click.pass_context
def run_command(ctx: click.Context, recipe: str, overrides: tuple[str, ...], out: str, overwrite: bool,
                shards: str | None, device: str, workers: int | None, threads_per_worker: int | None,
                scheduler: str | None, slurm: bool, dashboard: str | None, retries: int,
                log_format: str, quiet: bool, verbose: bool, report: bool, **slurm_args: object) -> None:
    """Generate the dataset described by RECIPE into --out, resuming what is already there.

    KEY=VALUE overrides use dotted recipe paths, e.g. output.clips=8. Progress: a bar on a
    terminal, JSON lines otherwise. Exit status: 0 done, 2 bad input, 3 some shards failed
    (rerun the same command to resume).
    """
    from synthdata.recipe.loader import load_recipe
    from synthdata.runner.submit import execute, prepare_run

    options = _cluster_options(ctx, scheduler, slurm, workers, threads_per_worker, dashboard, verbose,
                               slurm_args)
    shard_slice = parse_shards(shards)
    loaded = load_recipe(recipe, list(overrides))
    options.device = _device(device, options)
    progress = make_progress(log_format, quiet)
    try:  # SLURM's walltime and scancel send SIGTERM: stop as on Ctrl-C
        previous = signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:  # not the main thread
        previous = None
    try:
        run = prepare_run(loaded, out, shards=shard_slice, overwrite=overwrite)  # before any cluster
        if run.todo and options.device == "cpu":
            _compile_kernels(loaded, quiet)   # once, on every core, instead of in every worker
        with open_client(options) if run.todo else contextlib.nullcontext() as client:
            execute(run, client=client, device=options.device, retries=retries, progress=progress,
                    cluster=describe(options) if run.todo else "no workers needed",
                    helper=helper_thread(options))
        if report:
            _write_report(run.out, quiet)
    except KeyboardInterrupt:
        click.echo("interrupted: committed shards are kept; rerun the same command to resume", err=True)
        ctx.exit(130)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        sys.stdout.flush()


def _write_report(out: str, quiet: bool) -> None:
    """OUT/report.html once dataset.json exists (a --shards slice may leave the dataset unfinished)."""
    from synthdata.io.store import store_for
    from synthdata.report import write_report

    if not store_for(out).exists("dataset.json"):
        if not quiet:
            click.echo("report: skipped, the dataset is not complete yet (other shards remain)", err=True)
        return
    path = f"{out.rstrip('/')}/report.html" if "://" in out else os.path.join(out, "report.html")
    data = write_report(out, path)
    if not quiet:
        click.echo(f"report: wrote {path} ({len(data['warnings'])} warnings)", err=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _cluster_options(ctx: click.Context, scheduler: str | None, slurm: bool, workers: int | None,
                     threads: int | None, dashboard: str | None, verbose: bool,
                     slurm_args: dict) -> ClusterOptions:
    given = {k for k in SLURM_ONLY if ctx.get_parameter_source(k) != click.core.ParameterSource.DEFAULT}
    if given and not slurm:
        flags = ", ".join("--" + k.replace("_", "-") for k in sorted(given))
        raise BadInput(f"{flags}: only apply with --slurm")
    if scheduler and (slurm or workers is not None or threads is not None):
        raise BadInput("--scheduler: use an existing cluster or start one (--slurm, --workers, "
                       "--threads-per-worker), not both")
    if slurm and workers is not None:
        raise BadInput("--workers: SLURM clusters are sized with --jobs and --job-cores")
    if not scheduler and not slurm and workers is None and threads is None:
        scheduler = os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    slurm_options = None
    if slurm:
        a = slurm_args
        slurm_options = SlurmOptions(
            queue=a["queue"], account=a["account"], walltime=a["walltime"], jobs=a["jobs"],
            cores=a["job_cores"], memory=a["job_memory"], gpus_per_job=a["gpus_per_job"],
            lifetime_s=parse_duration(a["lifetime"], "--lifetime") if a["lifetime"] else None,
            lifetime_stagger_s=(parse_duration(a["lifetime_stagger"], "--lifetime-stagger")
                                if a["lifetime_stagger"] else None),
            job_extra=list(a["job_extra"]))
    return ClusterOptions(scheduler=scheduler, workers=workers, threads_per_worker=threads,
                          slurm=slurm_options, dashboard=dashboard, verbose=verbose)
