"""A shard of really rendered and labelled clips passes `verify` and the independent contract check."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from synthdata.cli import main
from synthdata.pipeline import finalize_dataset, shard_writer
from tests.fakes import fake_recipe
from synthdata.pipeline import clip_from_world
from synthdata.plan import plan
from tests.scenes import random_world

CHECKER = Path(__file__).resolve().parents[2] / "shared" / "tools" / "check_contract.py"


def check(out: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["verify", out])
    captured = capsys.readouterr()
    assert exit_info.value.code == 0, captured.err
    assert captured.out.startswith("OK real: 1 shard, 2 clips, 8 frames")
    if CHECKER.exists():   # the project's independent checker, beside the repository
        res = subprocess.run([sys.executable, str(CHECKER), out], capture_output=True, text=True)
        assert res.returncode == 0, res.stdout + res.stderr
        assert "0 problems" in res.stdout


def test_rendered_clips_make_a_sound_shard(tmp_path, capsys):
    recipe = fake_recipe(name="real", clips=2, clips_per_shard=2, num_frames=4, width=64, height=48, fps=10.0)
    spec = plan(recipe)[0]
    with shard_writer(str(tmp_path), spec, recipe) as w:
        for i in spec.clip_indices:
            world = random_world(i, T=4, width=64, height=48)
            w.add_clip(clip_from_world(world, f"real-{i:06d}", i, 100 + i, {"world": i}, recipe,
                                       torch.device("cpu")))
        marker = w.commit()
    assert marker["counts"]["objects"] > 0 and set(marker["categories"]) == {"car", "person"}
    finalize_dataset(str(tmp_path), recipe, [marker])
    check(str(tmp_path), capsys)


def test_generate_shard_end_to_end(tmp_path, capsys):
    pytest.importorskip("synthdata.world.sample", reason="world sampling is not written yet")
    from synthdata.pipeline import generate_shard

    recipe = fake_recipe(name="real", clips=2, clips_per_shard=2, num_frames=4, width=64, height=48)
    marker = generate_shard(recipe, plan(recipe)[0], str(tmp_path), device="cpu")
    finalize_dataset(str(tmp_path), recipe, [marker])
    check(str(tmp_path), capsys)
