"""Where shards run: a Dask client on a local cluster, an existing scheduler or SLURM jobs.

`open_client(options)` is a context manager yielding a `distributed.Client` (or None for the
in-process mode, `--workers 0`) and shuts down what it started, quietly: batch jobs rely on a
clean stderr. Clusters synthdata starts run one shard per worker process at a time
(threads_per_worker=1) with torch limited to one intra-op thread unless told otherwise.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from synthdata.errors import BadInput

# Loggers that print on their own during start-up, worker loss and shutdown.
NOISY_LOGGERS = ("distributed", "tornado", "asyncio", "bokeh", "dask_jobqueue")


@dataclass
class SlurmOptions:
    """One SLURM job per `jobs`, each running `processes` worker processes (one per GPU when
    gpus_per_job > 0). Workers retire `lifetime_s` after they start (staggered) so that they
    leave before the walltime kills them; the adaptive cluster submits replacement jobs."""

    queue: str | None = None
    account: str | None = None
    walltime: str = "01:00:00"
    jobs: int = 1
    cores: int = 8
    memory: str = "32GB"
    gpus_per_job: int = 0
    lifetime_s: int | None = None
    lifetime_stagger_s: int | None = None
    job_extra: list[str] = field(default_factory=list)


@dataclass
class ClusterOptions:
    """How to get workers. Exactly one of: `scheduler` (an address), `slurm`, or a local
    cluster with `workers` processes (None: one per core, or with CUDA `gpu_workers()`; 0: run
    shards one after another in this process, without Dask)."""

    scheduler: str | None = None
    workers: int | None = None
    threads_per_worker: int | None = None
    device: str = "cpu"
    slurm: SlurmOptions | None = None
    dashboard: str | None = None
    verbose: bool = False
    connect_timeout_s: float = 10.0


def quiet_dask(verbose: bool = False) -> None:
    """Silence distributed/tornado logging and their warnings in this process (worker processes
    of a local cluster are silenced by `local_cluster`)."""
    level = logging.WARNING if verbose else logging.CRITICAL
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(level)
    if not verbose:
        warnings.filterwarnings("ignore", module=r"(distributed|dask|tornado|dask_jobqueue)(\..*)?")


class WorkerSetup(WorkerPlugin):
    """Dask worker plugin: limit torch threads, silence warnings and Ctrl-C (a worker's
    terminal is often the driver's) and, with several GPUs, pick one per worker.

    The GPU is chosen from the trailing number of the worker name (local workers are named
    0..n-1, dask-jobqueue workers '<job>-<process>'), modulo the number of visible GPUs."""

    name = "synthdata-worker-setup"

    def __init__(self, torch_threads: int, pick_gpu: bool, quiet: bool = True):
        self.torch_threads = torch_threads
        self.pick_gpu = pick_gpu
        self.quiet = quiet

    def setup(self, worker: Any) -> None:
        import signal

        import torch

        if self.quiet:
            warnings.simplefilter("ignore")
        with contextlib.suppress(ValueError):  # not the main thread: nothing to do
            # Ctrl-C reaches the whole process group; the driver shuts workers down itself.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        torch.set_num_threads(self.torch_threads)
        if self.pick_gpu and torch.cuda.is_available() and torch.cuda.device_count() > 1:
            match = re.search(r"(\d+)$", str(worker.name))
            torch.cuda.set_device(int(match.group(1)) % torch.cuda.device_count() if match else 0)

    def teardown(self, worker: Any) -> None:
        """The worker is closing: its process ends without a last cyclic collection over what
        torch and numba made (cli.main does the same for the driver)."""
        import gc

        gc.freeze()


def describe(options: ClusterOptions) -> str:
    """A few words for the start event: where the shards run."""
    if options.workers == 0 and not options.scheduler and not options.slurm:
        return "this process (no Dask)"
    if options.scheduler:
        return f"scheduler {options.scheduler}"
    if options.slurm:
        jobs = options.slurm.jobs
        return f"SLURM ({jobs} job{'s' if jobs != 1 else ''})"
    return "a local Dask cluster"


@contextlib.contextmanager
def open_client(options: ClusterOptions) -> Iterator[Any]:
    """Yield a connected `distributed.Client`, or None for the in-process mode."""
    quiet_dask(options.verbose)
    if options.scheduler:
        with _existing(options) as client:
            yield client
        return
    if options.slurm is None and options.workers == 0:
        if options.threads_per_worker:
            import torch
            torch.set_num_threads(options.threads_per_worker)
        yield None
        return
    import dask
    from distributed import Client

    # A task whose worker dies is rescheduled; after 3 deaths it is reported as failed.
    with dask.config.set({"distributed.scheduler.allowed-failures": 3}):
        cluster = slurm_cluster(options) if options.slurm else local_cluster(options)
    try:
        if options.slurm:
            cluster.adapt(minimum_jobs=options.slurm.jobs, maximum_jobs=options.slurm.jobs)
        with Client(cluster) as client:
            threads = options.threads_per_worker or 1
            client.register_plugin(WorkerSetup(threads, pick_gpu=options.device == "cuda",
                                               quiet=not options.verbose))
            yield client
    finally:
        with contextlib.suppress(Exception):
            cluster.close()


GPU_WORKERS = 16          # local worker processes sharing a GPU (each renders there, encodes on its core)
GPU_WORKER_GIB = 3.0      # GPU memory set aside for each (its CUDA context and a chunk's buffers)


def gpu_workers() -> int:
    """Local worker processes for --device cuda: up to GPU_WORKERS per GPU, no more than the
    cores and than each GPU's memory allows, at least one per GPU. Rendering on the GPU leaves
    the host work of a shard (tables, encoding, labels) to its process: on an H200 with 16
    cores, 16 processes sharing it made 310.6 frames/s end to end, 8 made 182.9 and one 64.1,
    and 16 rendering on the CPU 240.5 (benchmarks/README.md, 2026-12-04)."""
    import torch
    gpus = torch.cuda.device_count()
    if not gpus:
        return 1
    memory = min(torch.cuda.get_device_properties(i).total_memory for i in range(gpus)) / 2**30
    per_gpu = max(1, min(GPU_WORKERS, int(memory // GPU_WORKER_GIB)))
    return max(gpus, min(os.cpu_count() or 1, per_gpu * gpus))


def local_workers(options: ClusterOptions) -> int:
    """The local cluster's worker processes: --workers, else one per GPU share (`gpu_workers`) or
    one per `threads_per_worker` cores."""
    if options.workers is not None:
        return options.workers
    if options.device == "cuda":
        return gpu_workers()
    return max(1, (os.cpu_count() or 1) // (options.threads_per_worker or 1))


def helper_thread(options: ClusterOptions) -> bool:
    """Whether each shard task runs its chunks' last steps on a helper thread beside the render
    (pipeline.generate_shard `helper`): only where a task has a spare core. In this process: with
    two cores or more; a local cluster: when its workers leave a core each beside their threads
    (with a worker on every core a helper made 2 workers about 10 % slower, benchmarks/README.md);
    SLURM and an existing scheduler: no (their workers usually take every core)."""
    cores = os.cpu_count() or 1
    if options.scheduler or options.slurm is not None:
        return False
    if options.workers == 0:
        return cores > 1
    return cores >= local_workers(options) * ((options.threads_per_worker or 1) + 1)


def local_cluster(options: ClusterOptions) -> Any:
    """A `distributed.LocalCluster` of worker processes, one shard at a time each. With
    device cuda: `gpu_workers()` processes, each offering the resource GPU=1 (each task asks
    for it, so a GPU's processes share it, spread over the GPUs by WorkerSetup)."""
    import dask
    from distributed import LocalCluster

    threads = options.threads_per_worker or 1
    gpu = options.device == "cuda"
    n = local_workers(options)
    # Set around the spawn of each worker process, so read by its interpreter and by torch.
    env = {name: threads for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    # Dask's default (MALLOC_TRIM_THRESHOLD_=65536) disables glibc's adaptive mmap threshold, so
    # every large tensor is freshly mapped and page-faulted: 1.8x the CPU time of rendering in
    # process. Keep big buffers in the heap instead and trim only large free space. Not too big:
    # with 32 MB / 128 MB the heap fragmented around the encoder's allocations and a 1280x720
    # clip peaked at 1.5 GB; 16 MB / 32 MB peaks at 1.28 GB at the same speed (benchmarks/README.md).
    env["MALLOC_MMAP_THRESHOLD_"] = 16777216
    env["MALLOC_TRIM_THRESHOLD_"] = 33554432
    with dask.config.set({"distributed.nanny.pre-spawn-environ": env}):
        return LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                            dashboard_address=options.dashboard,
                            silence_logs=logging.WARNING if options.verbose else logging.CRITICAL,
                            resources={"GPU": 1} if gpu else None)


@contextlib.contextmanager
def _existing(options: ClusterOptions) -> Iterator[Any]:
    from distributed import Client

    address = options.scheduler
    try:
        client = Client(address, timeout=f"{options.connect_timeout_s}s")
    except (OSError, TimeoutError, ValueError) as e:
        raise BadInput(f"--scheduler {address}: cannot connect ({type(e).__name__}: {e})") from None
    try:
        if options.device == "cuda":
            require_gpu_workers(client, address)
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.close()


def require_gpu_workers(client: Any, address: str) -> None:
    """Fail fast when workers are connected but none offers the Dask resource GPU."""
    workers = client.scheduler_info(n_workers=-1).get("workers", {})
    if workers and not any(w.get("resources", {}).get("GPU", 0) >= 1 for w in workers.values()):
        raise BadInput(f"--device cuda: none of the {len(workers)} workers of {address} offers the "
                       f"resource GPU (start them with `dask worker ... --resources GPU=1`)")


def parse_duration(text: str, option: str) -> int:
    """Seconds in a SLURM time ('MM', 'MM:SS', 'HH:MM:SS', 'D-HH[:MM[:SS]]') or '90s'/'55m'/'2h'."""
    text = text.strip()
    unit = re.fullmatch(r"(\d+)\s*([smh])", text)
    if unit:
        return int(unit.group(1)) * {"s": 1, "m": 60, "h": 3600}[unit.group(2)]
    m = re.fullmatch(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?", text)
    if not m:
        raise BadInput(f"{option}: expected a time such as 02:00:00, 1-12:00:00, 90m or 45s, got {text!r}")
    days, a, b, c = (int(g) if g else None for g in m.groups())
    if days is not None:  # D-HH[:MM[:SS]]
        return days * 86400 + a * 3600 + (b or 0) * 60 + (c or 0)
    if c is not None:
        return a * 3600 + b * 60 + c
    if b is not None:
        return a * 60 + b
    return a * 60  # SLURM: a bare number is minutes


def lifetimes(slurm: SlurmOptions) -> tuple[int, int]:
    """(lifetime, stagger) in seconds: by default workers retire 5 minutes (or a tenth of a
    short walltime) before the walltime, staggered over up to 2 minutes."""
    wall = parse_duration(slurm.walltime, "--walltime")
    life = slurm.lifetime_s if slurm.lifetime_s is not None else wall - min(300, wall // 10)
    stagger = slurm.lifetime_stagger_s if slurm.lifetime_stagger_s is not None else min(120, life // 10)
    if not 0 < life + stagger <= wall:
        raise BadInput(f"--lifetime: workers must retire before the walltime ({slurm.walltime}); "
                       f"got lifetime {life} s + stagger {stagger} s")
    return life, stagger


def slurm_cluster(options: ClusterOptions) -> Any:
    """A dask-jobqueue SLURMCluster (no jobs submitted yet: `open_client` keeps it at `jobs`
    jobs, adaptively, so retired workers are replaced). With gpus_per_job > 0 each job runs one
    worker process per GPU, each offering the resource GPU=1."""
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError:
        raise BadInput("--slurm needs dask-jobqueue: pip install 'synthdata[slurm]'") from None
    import sys

    slurm = options.slurm
    assert slurm is not None
    life, stagger = lifetimes(slurm)
    gpus = slurm.gpus_per_job
    processes = gpus if gpus else max(1, slurm.cores // (options.threads_per_worker or 1))
    args = ["--lifetime", f"{life}s", "--lifetime-stagger", f"{stagger}s"]
    directives = list(slurm.job_extra)
    if gpus:
        args += ["--resources", "GPU=1"]
        directives.append(f"--gres=gpu:{gpus}")
    threads = options.threads_per_worker or 1
    cluster = SLURMCluster(
        queue=slurm.queue, account=slurm.account, walltime=slurm.walltime,
        cores=processes, processes=processes, memory=slurm.memory, job_cpu=slurm.cores,
        python=sys.executable, worker_extra_args=args, job_extra_directives=directives,
        job_script_prologue=[f"export OMP_NUM_THREADS={threads}"],
        scheduler_options=({"dashboard_address": options.dashboard} if options.dashboard
                           else {"dashboard": False}),
        silence_logs=logging.WARNING if options.verbose else logging.CRITICAL,
    )
    return cluster
