"""The runner's parts that need no rendering: options, progress output, SLURM job scripts and
what `synthdata run` does with an output folder that already holds something."""
from __future__ import annotations

import errno
import io
import json
import os
import tempfile

import pytest

from synthdata.errors import BadInput, DatasetError
from tests.fakes import fake_recipe, write_fake_dataset
from synthdata.plan import plan, recipe_sha256
from synthdata.runner.cli import parse_shards
from synthdata.runner.cluster import ClusterOptions, SlurmOptions, lifetimes, parse_duration, slurm_cluster
from synthdata.runner.outdir import prepare_out
from synthdata.runner.progress import Bar, JsonLines, Text, make_progress, summary_line
from synthdata.runner.submit import select, shard_key

# --- options -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, indices", [
    ("0:2", [0, 1]), ("2:", [2, 3, 4]), (":1", [0]), ("1", [1]), ("-1", [4]), ("::2", [0, 2, 4]),
    ("1::2", [1, 3]), ("7:9", []),
])
def test_shards_option_is_a_python_slice_over_shard_indices(text, indices):
    specs = plan(fake_recipe(clips=10, clips_per_shard=2))
    assert [s.index for s in select(specs, parse_shards(text))] == indices


@pytest.mark.parametrize("text", ["a:b", "1:2:3:4", "1:2:0", "1.5"])
def test_bad_shards_option_is_one_clear_line(text):
    with pytest.raises(BadInput, match="--shards"):
        parse_shards(text)


@pytest.mark.parametrize("text, seconds", [
    ("02:00:00", 7200), ("1-12:00:00", 129600), ("45", 2700), ("10:30", 630), ("90m", 5400), ("45s", 45),
    ("2h", 7200),
])
def test_durations_read_like_slurm_times(text, seconds):
    assert parse_duration(text, "--walltime") == seconds


def test_workers_retire_before_the_walltime():
    life, stagger = lifetimes(SlurmOptions(walltime="01:00:00"))
    assert (life, stagger) == (3300, 120)
    assert life + stagger < 3600
    with pytest.raises(BadInput, match="--lifetime"):
        lifetimes(SlurmOptions(walltime="00:30:00", lifetime_s=1800, lifetime_stagger_s=60))
    with pytest.raises(BadInput, match="--walltime"):
        lifetimes(SlurmOptions(walltime="soon"))


def test_a_closing_worker_skips_the_last_collection():
    # the local cluster's close waited 0.7-1.0 s on its workers' last cyclic collections
    import subprocess
    import sys

    code = ("import gc\nfrom synthdata.runner.cluster import WorkerSetup\n"
            "p = WorkerSetup(1, False)\nbefore = gc.get_freeze_count()\np.teardown(None)\n"
            "print(before, gc.get_freeze_count() > 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "True"]


def test_shard_keys_name_recipe_and_shard():
    specs = plan(fake_recipe(clips=4, clips_per_shard=2))
    sha = specs[0].recipe_sha256
    assert [shard_key(s) for s in specs] == [f"shard-{sha[:12]}-0", f"shard-{sha[:12]}-1"]
    other = plan(fake_recipe(clips=4, clips_per_shard=2, name="other"))
    assert shard_key(other[0]) != shard_key(specs[0])


# --- SLURM -------------------------------------------------------------------------------

def test_slurm_job_script_requests_gpus_and_retires_workers_before_walltime():
    pytest.importorskip("dask_jobqueue")
    options = ClusterOptions(device="cuda", slurm=SlurmOptions(
        queue="gpu", account="vision", walltime="02:00:00", jobs=3, cores=8, memory="64GB",
        gpus_per_job=2, job_extra=["--constraint=a100"]))
    cluster = slurm_cluster(options)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    lines = script.splitlines()
    for directive in ("-p gpu", "-A vision", "-t 02:00:00", "--cpus-per-task=8", "--gres=gpu:2",
                      "--constraint=a100"):
        assert f"#SBATCH {directive}" in lines, directive
    worker = next(line for line in lines if "distributed.cli.dask_worker" in line)
    assert "--nworkers 2" in worker and "--nthreads 1" in worker
    assert "--resources GPU=1" in worker
    assert "--lifetime 6900s" in worker and "--lifetime-stagger 120s" in worker


def test_slurm_job_script_without_gpus_runs_one_worker_per_core():
    pytest.importorskip("dask_jobqueue")
    cluster = slurm_cluster(ClusterOptions(slurm=SlurmOptions(walltime="00:20:00", cores=4)))
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "--gres" not in script and "GPU" not in script
    assert "--nworkers 4" in script and "--lifetime 1080s" in script


# --- progress ------------------------------------------------------------------------------

class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _events():
    return [
        {"event": "start", "out": "/d", "cluster": "a local Dask cluster", "shards_total": 3,
         "shards_todo": 2, "shards_committed": 1, "clips_todo": 4},
        {"event": "shard_done", "shard": 1, "clips": 2, "frames": 16, "objects": 30, "seconds": 0.5},
        {"event": "shard_failed", "shard": 2, "error": "RuntimeError: boom"},
        {"event": "done", "out": "/d", "shards_total": 3, "shards_done": 1, "shards_failed": 1,
         "shards_skipped": 1, "shards_remaining": 1, "complete": False, "clips": 2, "frames": 16,
         "objects": 30, "wall_s": 2.0, "frames_per_s": 8.0},
    ]


def test_json_lines_one_object_per_event():
    out = io.StringIO()
    p = JsonLines(out)
    for e in _events():
        p.emit(e)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["event"] for e in lines] == ["start", "shard_done", "shard_failed", "done"]
    assert lines[1]["shard"] == 1 and lines[2]["error"] == "RuntimeError: boom"


def test_bar_shows_shards_clips_rate_and_eta_then_the_summary():
    err = _Tty()
    p = Bar(err, refresh_s=60)
    for e in _events()[:2]:
        p.emit(e)
    drawn = err.getvalue()
    assert "1/2 shards" in drawn and "2 clips" in drawn and "frames/s" in drawn and "ETA" in drawn
    for e in _events()[2:]:
        p.emit(e)
    last = err.getvalue().rsplit("\r\x1b[2K", 1)[-1]
    assert last.startswith("incomplete: 1 shards failed; 2 clips, 16 frames, 30 objects in 2.0 s "
                           "(8.0 frames/s)")


def test_text_lines_without_a_terminal():
    err = io.StringIO()
    p = Text(err)
    for e in _events():
        p.emit(e)
    assert err.getvalue().splitlines() == [
        "generating 2 of 3 shards (4 clips) into /d on a local Dask cluster",
        "shard 1 done [1/2]",
        "shard 2 FAILED: RuntimeError: boom [2/2]",
        ("incomplete: 1 shards failed; 2 clips, 16 frames, 30 objects in 2.0 s (8.0 frames/s); "
         "1 shards were already committed"),
    ]


def test_reporter_choice_follows_the_terminal_and_options():
    assert isinstance(make_progress("auto", stderr=io.StringIO(), stdout=io.StringIO()), JsonLines)
    assert isinstance(make_progress("auto", stderr=_Tty(), stdout=io.StringIO()), Bar)
    assert isinstance(make_progress("text", stderr=io.StringIO(), stdout=io.StringIO()), Text)
    assert isinstance(make_progress("json", stderr=_Tty(), stdout=io.StringIO()), JsonLines)
    quiet = make_progress("json", quiet=True, stderr=_Tty(), stdout=io.StringIO())
    assert type(quiet).__name__ == "Progress"


def test_summary_says_what_remains_for_a_slice():
    done = dict(_events()[-1], shards_failed=0, shards_remaining=2)
    assert "2 of 3 shards remain" in summary_line(done)
    done.update(complete=True, shards_remaining=0)
    assert summary_line(done).startswith("done: 2 clips, 16 frames, 30 objects in 2.0 s (8.0 frames/s)")


# --- the output folder ---------------------------------------------------------------------

def test_unrelated_folder_is_refused_and_left_alone(tmp_path):
    (tmp_path / "holiday.jpg").write_bytes(b"\xff\xd8")
    recipe = fake_recipe()
    with pytest.raises(DatasetError, match="not empty and holds no synthdata dataset"):
        prepare_out(str(tmp_path), recipe_sha256(recipe), recipe.num_shards, overwrite=True)
    assert os.listdir(tmp_path) == ["holiday.jpg"]


def test_empty_or_missing_folder_is_fine(tmp_path):
    recipe = fake_recipe()
    assert prepare_out(str(tmp_path), recipe_sha256(recipe), recipe.num_shards) == {}
    assert prepare_out(str(tmp_path / "new" / "deep"), recipe_sha256(recipe), recipe.num_shards) == {}


def test_same_recipe_resumes_with_its_committed_shards(tmp_path):
    write_fake_dataset(str(tmp_path), clips=6, clips_per_shard=2)
    recipe = fake_recipe(clips=6, clips_per_shard=2)
    os.remove(tmp_path / "_shards" / "shard-000001.json")     # as if shard 1 never committed
    os.makedirs(tmp_path / "_tmp" / "shard-000001-abc")       # and its staging folder was left
    committed = prepare_out(str(tmp_path), recipe_sha256(recipe), recipe.num_shards)
    assert sorted(committed) == [0, 2]
    assert not (tmp_path / "_tmp").exists()
    assert not (tmp_path / "videos" / "shard-000001.tar").exists()   # uncommitted files cleaned


def test_foreign_dataset_is_refused_then_overwrite_removes_only_its_files(tmp_path):
    write_fake_dataset(str(tmp_path), clips=6, clips_per_shard=2, name="old")
    (tmp_path / "NOTES.txt").write_text("mine")
    recipe = fake_recipe(clips=2, clips_per_shard=2, name="new")
    sha = recipe_sha256(recipe)
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    with pytest.raises(DatasetError, match="different recipe.*--overwrite"):
        prepare_out(str(tmp_path), sha, recipe.num_shards)
    after = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert after == before                                     # refusing damages nothing
    assert prepare_out(str(tmp_path), sha, recipe.num_shards, overwrite=True) == {}
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert left == ["NOTES.txt"]


def test_resuming_shards_of_another_synthdata_version_is_refused_then_overwrite_regenerates(tmp_path):
    from synthdata import __version__
    from synthdata.io.records import VideoSettings
    from synthdata.io.shard import ShardWriter, committed_shards
    from tests.fakes import fake_clip

    recipe = fake_recipe(clips=4, clips_per_shard=2)
    sha = recipe_sha256(recipe)
    spec = plan(recipe)[0]
    with ShardWriter(str(tmp_path), spec, VideoSettings(), synthdata_version="0.0.1") as w:
        for i in spec.clip_indices:
            w.add_clip(fake_clip(i))
        w.commit()
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    with pytest.raises(DatasetError) as e:
        prepare_out(str(tmp_path), sha, recipe.num_shards)
    assert str(e.value) == (f"--out {tmp_path}: 1 of its committed shards were made by synthdata 0.0.1, this "
                            f"is {__version__}; resuming would mix two versions' output: finish it with "
                            f"synthdata 0.0.1, or pass --overwrite to regenerate those shards")
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == before
    assert prepare_out(str(tmp_path), sha, recipe.num_shards, overwrite=True) == {}
    assert committed_shards(str(tmp_path)) == {} and not list(tmp_path.rglob("shard-000000.*"))


def test_a_finished_dataset_of_another_version_is_left_alone(tmp_path):
    write_fake_dataset(str(tmp_path))
    for marker in (tmp_path / "_shards").iterdir():
        marker.write_text(marker.read_text().replace(f'"synthdata_version": "', '"synthdata_version": "0.0.1'))
    recipe = fake_recipe()
    assert sorted(prepare_out(str(tmp_path), recipe_sha256(recipe), recipe.num_shards)) == [0, 1]


def test_an_out_that_cannot_be_created_is_refused_up_front(tmp_path, monkeypatch):
    from synthdata.runner.outdir import check_can_create

    (tmp_path / "file").write_text("x")
    result = _cli(["--workers", "0", "--out", str(tmp_path / "file" / "ds")], tmp_path)
    assert isinstance(result.exception, DatasetError) and result.exception.exit_code == 2   # main(): exit 2
    assert str(result.exception) == (f"--out {tmp_path}/file/ds: cannot create the folder: {tmp_path}/file "
                                     f"is a file, not a folder")
    assert not list(tmp_path.rglob("*.parquet"))
    check_can_create(str(tmp_path / "new" / "ds"))          # a writable parent: accepted, nothing left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "r.yaml"]      # (r.yaml: the recipe `_cli` ran)

    def read_only(**kwargs):
        raise OSError(errno.EROFS, "Read-only file system")
    with monkeypatch.context() as m:   # root on a read-only mount: the permissions say yes, making a folder fails
        m.setattr(tempfile, "mkdtemp", read_only)
        with pytest.raises(DatasetError, match=r"^--out .*/new/ds: cannot write into its parent .* "
                                               r"\(Read-only file system\)$"):
            check_can_create(str(tmp_path / "new" / "ds"))
    monkeypatch.setattr(os, "access", lambda path, mode: False)    # as a user without write permission
    with pytest.raises(DatasetError, match=r"cannot write into its parent .* \(permission denied\)"):
        check_can_create(str(tmp_path / "new" / "ds"))


def test_a_foreign_dataset_json_that_is_not_synthdatas_is_not_touched(tmp_path):
    (tmp_path / "dataset.json").write_text('{"name": "someone else\'s"}')
    recipe = fake_recipe()
    with pytest.raises(DatasetError, match="no synthdata dataset"):
        prepare_out(str(tmp_path), recipe_sha256(recipe), recipe.num_shards, overwrite=True)
    assert (tmp_path / "dataset.json").exists()


# --- the command line ----------------------------------------------------------------------

def _cli(args, tmp_path):
    from click.testing import CliRunner

    from synthdata.cli import cli

    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: t\nseed: 1\n"
                      "output: {clips: 2, frames_per_clip: 4, fps: 10, resolution: [64, 48]}\n")
    return CliRunner().invoke(cli, ["run", str(recipe), "--out", str(tmp_path / "out"), *args])


NO_CUDA = not __import__("torch").cuda.is_available()


@pytest.mark.parametrize("args, message", [
    pytest.param(["--workers", "0", "--device", "cuda"], "--device cuda: no CUDA device",
                 marks=pytest.mark.skipif(not NO_CUDA, reason="CUDA is available here")),
    (["--queue", "gpu"], "--queue: only apply with --slurm"),
    (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "--scheduler: use an existing cluster"),
    (["--slurm", "--workers", "2"], "--workers: SLURM clusters are sized"),
    (["--slurm", "--device", "cuda"], "--device cuda with --slurm needs --gpus-per-job"),
    (["--shards", "x"], "--shards"),
    (["--workers", "0", "output.clips=0"], "output.clips"),
])
def test_conflicting_or_bad_options_are_bad_input(args, message, tmp_path):
    result = _cli(args, tmp_path)
    assert isinstance(result.exception, BadInput), result.output
    assert message in str(result.exception)
    assert not (tmp_path / "out").exists()


def test_unreachable_scheduler_is_one_line():
    from synthdata.runner.cluster import open_client

    options = ClusterOptions(scheduler="tcp://127.0.0.1:9", connect_timeout_s=0.5)
    expected = r"^--scheduler tcp://127.0.0.1:9: cannot connect"
    with pytest.raises(BadInput, match=expected), open_client(options):
        pass


@pytest.mark.skipif(not NO_CUDA, reason="CUDA is available here")
def test_bad_input_inside_a_shard_is_not_retried_and_not_a_partial_failure(tmp_path, monkeypatch):
    from synthdata import pipeline
    from synthdata.runner.submit import run_dataset

    calls = []
    real = pipeline.generate_shard
    monkeypatch.setattr(pipeline, "generate_shard", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    with pytest.raises(BadInput, match="--device cuda: no CUDA device"):
        run_dataset(fake_recipe(), str(tmp_path / "out"), device="cuda")
    assert len(calls) == 1                      # neither retried nor tried on the next shard
    assert not list((tmp_path / "out").glob("_shards/*"))


@pytest.mark.parametrize("gpus,gib,cores,want", [(1, 141, 16, 16), (1, 141, 64, 16), (1, 141, 4, 4), (1, 8, 16, 2),
                                                 (1, 2, 16, 1), (2, 24, 64, 16), (2, 80, 1, 2), (0, 0, 16, 1)])
def test_a_local_cuda_cluster_shares_each_gpu_among_worker_processes(monkeypatch, gpus, gib, cores, want):
    """--device cuda on a local cluster: up to 16 processes a GPU (one made 64 frames/s end to end
    on a 16-core H200 host, eight 183, sixteen 311), capped by cores and GPU memory, never fewer
    than the GPUs."""
    import types

    import torch

    from synthdata.runner import cluster
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: types.SimpleNamespace(total_memory=gib * 2**30))
    monkeypatch.setattr(cluster.os, "cpu_count", lambda: cores)
    assert cluster.gpu_workers() == want


def test_a_helper_thread_only_where_a_shard_task_has_a_spare_core(monkeypatch):
    """pipeline.generate_shard's helper thread fills a spare core; with a worker on every core it
    made two workers about 10 % slower, so a run turns it on only where each task has one."""
    from synthdata.runner.cluster import helper_thread

    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert helper_thread(ClusterOptions(workers=0))                        # in this process
    assert not helper_thread(ClusterOptions())                             # a worker per core
    assert helper_thread(ClusterOptions(workers=4))
    assert not helper_thread(ClusterOptions(workers=5))
    assert not helper_thread(ClusterOptions(workers=3, threads_per_worker=2))
    assert helper_thread(ClusterOptions(workers=2, threads_per_worker=2))
    assert not helper_thread(ClusterOptions(scheduler="tcp://h:8786"))
    assert not helper_thread(ClusterOptions(slurm=SlurmOptions(walltime="00:20:00", cores=4)))
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert not helper_thread(ClusterOptions(workers=0))


def test_a_shard_with_and_without_the_helper_thread_has_the_same_bytes(tmp_path):
    from synthdata.pipeline import generate_shard
    from synthdata.recipe.loader import load_recipe

    recipe = load_recipe(str(os.path.join(os.path.dirname(__file__), "..", "recipes", "plate_lobby.yaml")),
                         ["output.frames_per_clip=12", "output.chunk_frames=4", "output.clips=2",
                          "output.clips_per_shard=2"])
    spec = plan(recipe)[0]
    digests = []
    for helper in (True, False):
        out = tmp_path / str(helper)
        generate_shard(recipe, spec, str(out), device="cpu", helper=helper)
        digests.append({p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*")
                        if p.is_file() and p.suffix in (".tar", ".parquet")})
    assert digests[0] == digests[1] and len(digests[0]) == 5
