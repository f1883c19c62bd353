"""`synthdata run` end to end with the real pipeline: local Dask cluster, an existing scheduler,
killed workers and drivers, resume, `--shards` slices, partial failure and S3 output.

Every run must give the same bytes as one clean in-process run (sha256 of every tar and Parquet
file): DESIGN.md §4 says that holds on any number of workers and after any retry or resume.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from synthdata.recipe.loader import load_recipe
from synthdata.runner.submit import run_dataset

RECIPE = """\
name: runner-test
seed: 11
output:
  clips: 4
  clips_per_shard: 2
  frames_per_clip: 3
  fps: 10
  resolution: [64, 48]
actors:
  - {type: person, count: 1}
"""
SHARDS = 2


def digests(root: Path) -> dict[str, str]:
    """sha256 of every tar and Parquet file under OUT, by relative path."""
    files = sorted(root.glob("videos/*.tar")) + sorted(root.glob("tables/*/*.parquet"))
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def synthdata(*args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "synthdata.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}, **kw)


def finish(proc: subprocess.Popen, timeout: float = 240) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def recipe_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("recipe") / "recipe.yaml"
    path.write_text(RECIPE)
    return path


@pytest.fixture(scope="module")
def reference(recipe_file, tmp_path_factory) -> dict[str, str]:
    """The clean run: in this process, shard after shard."""
    out = tmp_path_factory.mktemp("reference")
    result = run_dataset(load_recipe(str(recipe_file)), str(out), client=None, device="cpu")
    assert result.manifest is not None and len(result.done) == SHARDS
    found = digests(out)
    assert len(found) == SHARDS * 5
    return found


@pytest.mark.slow
def test_local_cluster_survives_a_killed_worker_and_matches_a_clean_run(recipe_file, reference, tmp_path):
    out, flag = tmp_path / "out", tmp_path / "killed"
    preload = Path(__file__).with_name("dask_faults.py")     # kills the worker rendering clip 3 (shard 1)
    proc = synthdata("run", str(recipe_file), "--out", str(out), "--workers", "2", "--device", "cpu",
                     env={"DASK_DISTRIBUTED__WORKER__PRELOAD": json.dumps([str(preload)]),
                          "FAULT_KILL_CLIP": "3", "FAULT_KILL_FLAG": str(flag)})
    code, stdout, stderr = finish(proc)
    assert code == 0, stderr
    assert stderr == ""                       # nothing from dask, tornado or the killed worker
    assert flag.exists()                      # the worker running shard 1 did die mid-shard
    log = events(stdout)                      # not a terminal: JSON lines
    assert [e["event"] for e in log] == ["start"] + ["shard_done"] * SHARDS + ["done"]
    assert sorted(e["shard"] for e in log if e["event"] == "shard_done") == list(range(SHARDS))
    assert log[-1]["complete"] and log[-1]["clips"] == 4 and log[-1]["frames"] == 12
    assert digests(out) == reference
    assert not (out / "_tmp").exists()
    manifest = json.loads((out / "dataset.json").read_text())
    assert manifest["counts"]["clips"] == 4 and len(manifest["shards"]) == SHARDS


@pytest.fixture
def scheduler(tmp_path):
    """A real `dask scheduler` and one `dask worker` on 127.0.0.1, as separate processes."""
    from distributed import Client

    file = tmp_path / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                               "--port", "0", "--no-dashboard", "--scheduler-file", str(file)], **quiet)]
    try:
        deadline = time.time() + 60
        while not file.exists() and time.time() < deadline:
            time.sleep(0.2)
        address = json.loads(file.read_text())["address"]
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address,
                                       "--nthreads", "1", "--no-dashboard", "--no-nanny", "--host",
                                       "127.0.0.1"], **quiet))
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
        yield address
    finally:
        for p in procs:
            p.kill()
            p.wait(timeout=30)


def test_existing_scheduler_from_the_environment(recipe_file, reference, scheduler, tmp_path, monkeypatch,
                                                 capsys):
    from synthdata.cli import main

    out = tmp_path / "out"
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", scheduler)
    argv = ["run", str(recipe_file), "--out", str(out), "--log-format", "json"]
    # no worker offers a GPU: refused before anything is submitted or written
    with pytest.raises(SystemExit) as exit_:
        main(argv + ["--device", "cuda"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --device cuda: none of the 1 workers") and err.count("\n") == 1
    assert not out.exists()
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    log = events(capsys.readouterr().out)
    assert log[0]["cluster"] == f"scheduler {scheduler}" and log[-1]["complete"]
    assert digests(out) == reference


@pytest.mark.slow
def test_sigkilled_run_resumes_to_the_same_bytes(recipe_file, reference, tmp_path):
    out = tmp_path / "out"
    proc = synthdata("run", str(recipe_file), "--out", str(out), "--workers", "0", "--device", "cpu")
    deadline = time.time() + 120
    while not list(out.glob("_shards/*.json")) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    committed = len(list(out.glob("_shards/*.json")))
    assert 1 <= committed < SHARDS and not (out / "dataset.json").exists()
    result = run_dataset(load_recipe(str(recipe_file)), str(out), device="cpu")
    assert result.shards_skipped == committed and len(result.done) == SHARDS - committed
    assert digests(out) == reference
    assert not (out / "_tmp").exists()


def test_failed_shards_exit_3_keep_the_rest_and_a_rerun_resumes(recipe_file, reference, tmp_path,
                                                                 monkeypatch, capsys):
    from synthdata import pipeline
    from synthdata.cli import main

    real = pipeline.generate_clip
    calls: dict[int, int] = {}

    def flaky(recipe, index, **kw):
        calls[index] = calls.get(index, 0) + 1
        if index == 1 and calls[index] == 1:
            raise ConnectionError("transient")      # shard 0: fails once, the retry succeeds
        if index == 3:
            raise ValueError("clip 3 cannot be made")   # shard 1: fails every time
        return real(recipe, index, **kw)

    monkeypatch.setattr(pipeline, "generate_clip", flaky)
    out = tmp_path / "out"
    argv = ["run", str(recipe_file), "--out", str(out), "--workers", "0", "--log-format", "json"]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 3
    err = capsys.readouterr().err.splitlines()
    assert err[0] == ("error: 1 of 2 shards failed; the other shards are committed; "
                      "rerun the same command to resume")
    assert err[1] == "error: shard 1: ValueError: clip 3 cannot be made"
    assert calls[3] == 3                        # the first try and two retries
    assert sorted(p.name for p in out.glob("_shards/*.json")) == ["shard-000000.json"]
    assert not (out / "dataset.json").exists()

    monkeypatch.setattr(pipeline, "generate_clip", real)
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    done = events(capsys.readouterr().out)[-1]
    assert done["shards_done"] == 1 and done["shards_skipped"] == 1 and done["complete"]
    assert digests(out) == reference


def test_foreign_folder_is_refused_and_overwrite_replaces_it(recipe_file, reference, tmp_path, capsys):
    from synthdata.cli import main
    from tests.fakes import write_fake_dataset

    out = tmp_path / "out"
    write_fake_dataset(str(out), clips=8, clips_per_shard=2)          # 4 shards of another recipe
    (out / "README.txt").write_text("kept")
    argv = ["run", str(recipe_file), "--out", str(out), "--workers", "0", "--quiet"]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "holds a dataset made from a different recipe" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(argv + ["--overwrite", "--shards", "0"])
    assert exit_.value.code == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""                   # --quiet
    shard0 = {k: v for k, v in reference.items() if "shard-000000" in k}
    assert digests(out) == shard0                                     # every file of the old one is gone
    assert [p.name for p in out.glob("_shards/*")] == ["shard-000000.json"]
    assert not (out / "dataset.json").exists() and not (out / "recipe.yaml").exists()
    assert (out / "README.txt").read_text() == "kept"


@pytest.fixture
def s3(monkeypatch):
    """A moto S3 server on 127.0.0.1 reached through AWS_ENDPOINT_URL; yields a bucket name."""
    pytest.importorskip("s3fs")
    moto_server = pytest.importorskip("moto.server")
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": f"http://{host}:{port}"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    import fsspec
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    bucket = f"synthdata-test-{port}"   # one per server: nothing cached from an earlier server names it
    fsspec.filesystem("s3").mkdir(bucket)
    yield bucket
    s3fs.S3FileSystem.clear_instance_cache()
    server.stop()


def test_shard_slices_into_s3_finalize_when_the_last_one_commits(recipe_file, reference, s3):
    import fsspec

    from synthdata.io.reader import open_dataset

    recipe = load_recipe(str(recipe_file))
    url = f"s3://{s3}/datasets/run1"
    first = run_dataset(recipe, url, shards=slice(0, None, 2), device="cpu")       # shard 0
    assert sorted(first.done) == [0] and first.shards_remaining == 1 and first.manifest is None
    fs = fsspec.filesystem("s3")
    assert not fs.exists(f"{s3}/datasets/run1/dataset.json")
    again = run_dataset(recipe, url, shards=slice(0, None, 2), device="cpu")
    assert again.done == {} and again.shards_skipped == 1 and again.manifest is None
    last = run_dataset(recipe, url, shards=slice(1, 2), device="cpu")
    assert sorted(last.done) == [1] and last.manifest is not None
    remote = {k: hashlib.sha256(fs.cat_file(f"{s3}/datasets/run1/{k}")).hexdigest() for k in reference}
    assert remote == reference
    dataset = open_dataset(url)
    manifest = json.loads(fs.cat_file(f"{s3}/datasets/run1/dataset.json"))
    assert dataset.objects.count_rows() == manifest["counts"]["objects"]
    assert dataset.read_clip(dataset.clip_ids()[-1]).shape == (3, 48, 64, 3)


FAKE_SBATCH = """#!/bin/bash
# a stand-in for sbatch: run a copy of the job script in its own process group, here
id=$RANDOM$RANDOM
cp "${@: -1}" "$JOBS/job-$id.sh"
setsid bash "$JOBS/job-$id.sh" > "$JOBS/job-$id.log" 2>&1 < /dev/null &
echo $! > "$JOBS/job-$id.pid"
echo "Submitted batch job $id"
"""
FAKE_SCANCEL = """#!/bin/bash
for id in "$@"; do [ -f "$JOBS/job-$id.pid" ] && kill -TERM -- -"$(cat "$JOBS/job-$id.pid")" 2>/dev/null; done
exit 0
"""


@pytest.mark.slow
def test_slurm_path_runs_its_job_scripts(recipe_file, reference, tmp_path):
    """`--slurm` end to end, with sbatch/scancel stand-ins that run each job script here: the
    generated worker command line must be one `dask worker` accepts."""
    pytest.importorskip("dask_jobqueue")
    bin_, jobs = tmp_path / "bin", tmp_path / "jobs"
    bin_.mkdir()
    jobs.mkdir()
    for name, text in (("sbatch", FAKE_SBATCH), ("scancel", FAKE_SCANCEL), ("squeue", "#!/bin/bash\n")):
        (bin_ / name).write_text(text)
        (bin_ / name).chmod(0o755)
    out = tmp_path / "out"
    env = {"PATH": f"{bin_}:{os.environ['PATH']}", "JOBS": str(jobs)}
    proc = synthdata("run", str(recipe_file), "--out", str(out), "--slurm", "--jobs", "1", "--job-cores", "2",
                     "--job-memory", "4GB", "--walltime", "00:10:00", "--queue", "debug", env=env)
    code, stdout, stderr = finish(proc)
    assert code == 0, stderr + "".join(p.read_text()[-2000:] for p in jobs.glob("*.log"))
    assert stderr == ""
    script = next(jobs.glob("job-*.sh")).read_text()
    assert "#SBATCH -p debug" in script and "--lifetime 540s" in script and "--lifetime-stagger 54s" in script
    assert events(stdout)[0]["cluster"] == "SLURM (1 job)"
    assert digests(out) == reference
