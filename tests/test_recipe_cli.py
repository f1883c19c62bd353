"""`synthdata validate`: exit 0 and a summary for a good recipe, exit 2 and one line per problem."""
from __future__ import annotations

import subprocess
import sys

import pytest

from synthdata.recipe import load_recipe
from synthdata.recipe.cli import bits_per_pixel, estimate_output_bytes, human_duration, summarize

GOOD = """\
name: demo
seed: 7
output:
  clips: 40
  frames_per_clip: 30
  fps: 15
  resolution: [96, 64]
actors:
  - {type: person, count: {poisson: 3}}
  - {type: vehicle, count: {randint: [1, 3]}}
"""


def run_validate(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "synthdata.cli", "validate", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "recipe.yaml").write_text(GOOD)
    return tmp_path


def test_validate_good_recipe_prints_summary(workdir):
    p = run_validate("recipe.yaml", "output.clips=48", cwd=workdir)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "recipe demo (recipe.yaml, 1 override): valid" in out
    assert "seed        7" in out
    assert "clips       48 in 3 shards (16 clips per shard)" in out
    assert "frames      30 per clip at 15 fps (2 s per clip)" in out
    assert "total       1,440 frames, 1 min 36 s of video" in out
    assert "resolution  96x64" in out
    assert "[0] person: {count: {poisson: 3.0}" in out
    assert "[1] vehicle: {count: {randint: [1, 3]}" in out
    assert "estimate    ~" in out
    assert p.stderr == ""


def test_validate_bad_recipe_exits_2_with_one_line_per_problem(workdir):
    (workdir / "bad.yaml").write_text(GOOD.replace("seed: 7", "seed: seven").replace("{poisson: 3}", "many"))
    p = run_validate("bad.yaml", "output.clipz=3", cwd=workdir)
    assert p.returncode == 2
    assert p.stdout == ""
    assert "Traceback" not in p.stderr
    assert p.stderr.splitlines() == [
        "error: bad.yaml:2: seed: expected a whole number, got 'seven'",
        "error: bad.yaml:9: actors[0].count: expected a whole number or a distribution such as "
        "{randint: [1, 5]} or {poisson: 4}, got 'many'",
        "error: override 'output.clipz=3': output.clipz: unknown key; expected one of clips, "
        "clips_per_shard, frames_per_clip, fps, resolution, video, masks, modalities, chunk_frames (did you mean clips?)",
    ]


def test_validate_missing_file_and_syntax_error(workdir):
    p = run_validate("nope.yaml", cwd=workdir)
    assert (p.returncode, p.stderr) == (2, "error: nope.yaml: recipe file not found\n")
    (workdir / "broken.yaml").write_text("name: [demo\n")
    p = run_validate("broken.yaml", cwd=workdir)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.startswith("error: broken.yaml:2: YAML syntax error: ")


def test_control_and_binary_characters_exit_2_with_file_and_line(workdir):
    (workdir / "ctrl.yaml").write_bytes(GOOD.replace("fps: 15", "fps: 15\x1b[0m").encode())
    p = run_validate("ctrl.yaml", cwd=workdir)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "internal error" not in p.stderr
    assert p.stderr == ("error: ctrl.yaml:6: character U+001B (a control or binary character) at column 10; "
                        "a recipe is plain text\n")


@pytest.mark.parametrize("text, line", [("name: demo\x00\n", 1), (GOOD + "# \x07\n", 11),
                                        ("\x7fname: demo\n", 1)])
def test_control_characters_are_located_recipe_errors(text, line):
    from synthdata.errors import RecipeError

    with pytest.raises(RecipeError) as e:
        load_recipe(text, source="r.yaml")
    assert e.value.line == line and str(e.value).startswith(f"r.yaml:{line}: character U+")


def test_resolved_output_loads_back_equal(workdir):
    p = run_validate("recipe.yaml", "actors[1].count=2", "--resolved", cwd=workdir)
    assert p.returncode == 0, p.stderr
    assert load_recipe(p.stdout) == load_recipe(str(workdir / "recipe.yaml"), ["actors[1].count=2"])


def test_size_estimate_scales_with_crf_and_content():
    assert bits_per_pixel(23) == pytest.approx(0.1)
    assert bits_per_pixel(17) == pytest.approx(0.2)
    r = load_recipe(GOOD)
    video, table, rows = estimate_output_bytes(r)
    assert video == pytest.approx(96 * 64 * 40 * 30 * 0.1 / 8, rel=1e-6)
    assert rows == 40 * 30 * 5                                        # 3 people + 2 vehicles on average
    better = load_recipe(GOOD, ["output.video.crf=17"])
    assert estimate_output_bytes(better)[0] == pytest.approx(2 * video, rel=1e-6)
    empty = load_recipe(GOOD, ["actors=[]"])
    assert estimate_output_bytes(empty)[1:] == (0, 0)
    assert "none (empty scenes)" in summarize(empty)


def test_human_duration():
    assert human_duration(2) == "2 s"
    assert human_duration(96) == "1 min 36 s"
    assert human_duration(3 * 3600 + 120) == "3 h 2 min"
