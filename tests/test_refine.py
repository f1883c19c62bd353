"""The sim-to-real refiner (synthdata/refine): training, checkpoints, and applying it in the render
stage without moving a label."""
from __future__ import annotations

import numpy as np
import pyarrow.dataset as pads
import pytest
import torch

from synthdata.cli import main as cli_main
from synthdata.refine.apply import load_refiner, refine_frames
from synthdata.refine.checkpoint import CHANNELS, FORMAT, VERSION, file_sha256
from tests.refine_fixtures import TINY_RECIPE, make_tiny, one_thread, render, strong  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("refine")
    synth, real = make_tiny(root)
    return root, synth, real


def cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        cli_main(list(args))
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


# --- applying ------------------------------------------------------------------------------------

def test_strength_zero_gives_the_render_bit_for_bit(strong):
    plain = render(TINY_RECIPE)
    zero = render(TINY_RECIPE, [f"postprocess.refiner={strong}", "postprocess.strength=0"])
    assert np.array_equal(zero.frames, plain.frames)
    rgb = torch.from_numpy(plain.frames)
    assert refine_frames(rgb, load_refiner(strong), 0.0) is rgb


def test_refiner_changes_pixels_not_labels(strong):
    plain = render(TINY_RECIPE)
    refined = render(TINY_RECIPE, [f"postprocess.refiner={strong}"])
    assert refined.objects == plain.objects and refined.tracks == plain.tracks and refined.events == plain.events
    for k in plain.dense:
        assert np.array_equal(refined.dense[k], plain.dense[k], equal_nan=True)
    assert np.abs(refined.frames.astype(int) - plain.frames).mean() > 3      # it did something
    assert refined.clip_row["refiner_sha256"] == file_sha256(strong) and refined.clip_row["refiner_strength"] == 1.0
    assert "refiner_sha256" not in plain.clip_row


def test_frames_refined_beside_the_render_are_those_refined_in_line(strong):
    over = ["output.chunk_frames=2"]        # three chunks: each refined while the next renders
    plain = render(TINY_RECIPE, over)
    refined = render(TINY_RECIPE, over + [f"postprocess.refiner={strong}"])
    expected = refine_frames(torch.from_numpy(plain.frames), load_refiner(strong)).numpy()
    assert np.array_equal(refined.frames, expected)
    assert refined.objects == plain.objects


def _omp_threads() -> int | None:
    """This thread's OpenMP thread count as torch's libgomp sees it (None where it is not found)."""
    import ctypes
    import re

    try:
        libs = re.findall(r"\S*libgomp\S*\.so\S*", open("/proc/self/maps").read())
    except OSError:
        return None
    return ctypes.CDLL(libs[0]).omp_get_max_threads() if libs else None


def test_last_steps_on_another_thread_keep_torchs_thread_count():
    """A chunk's last steps (FrameChunk.prepare: the refiner) run on the encoder's thread with the
    renderer's torch thread count (oneDNN's convolutions would otherwise take every core there)."""
    import threading

    from synthdata.pipeline import _last_steps

    seen, given = [], []
    rgb = torch.full((1, 2, 2, 3), 7, dtype=torch.uint8)

    def refine(frames):
        seen.append(_omp_threads())
        return frames + 10

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        prepare = _last_steps(rgb, lambda: given.append(1), None, refine, timings := {})
        t = threading.Thread(target=lambda: seen.append(prepare()))
        t.start()
        t.join()
    finally:
        torch.set_num_threads(before)
    assert seen[0] in (1, None) and torch.equal(seen[1], rgb + 10)
    assert given == [1] and timings["refine"] > 0         # the rendered frames given back
    assert _last_steps(rgb, None, None, None, {}) is None


def test_a_refiners_error_on_the_encoders_thread_fails_the_shard(tmp_path, strong, monkeypatch):
    from synthdata.pipeline import generate_shard
    from synthdata.plan import plan
    from synthdata.recipe.loader import load_recipe
    import synthdata.refine.apply as apply

    def broken(rgb, refiner, strength=1.0, pair=False):
        raise RuntimeError("refiner failed")

    monkeypatch.setattr(apply, "refine_frames", broken)
    recipe = load_recipe(TINY_RECIPE, [f"postprocess.refiner={strong}"], source="<t>")
    with pytest.raises(RuntimeError, match="refiner failed"):
        generate_shard(recipe, plan(recipe)[0], str(tmp_path / "out"), device="cpu")
    assert not list((tmp_path / "out").rglob("*.parquet"))     # nothing committed


def test_colour_changes_are_bounded(strong):
    plain = render(TINY_RECIPE).frames.astype(int)
    full = render(TINY_RECIPE, [f"postprocess.refiner={strong}"]).frames.astype(int)
    half = render(TINY_RECIPE, [f"postprocess.refiner={strong}", "postprocess.strength=0.5"]).frames.astype(int)
    bound = 0.25 * 255                      # the generator's max_delta
    assert np.abs(full - plain).max() <= np.ceil(bound)
    assert np.abs(half - plain).max() <= np.ceil(bound / 2) + 1
    assert np.abs(full - plain).max() > bound / 2  # the bound is reached, not trivially met


def test_refiner_precision_is_checked(capsys, strong, tmp_path):
    (tmp_path / "r.yaml").write_text(TINY_RECIPE + f"postprocess:\n  refiner: {strong}\n  precision: half\n")
    code, _, err = cli(capsys, "validate", str(tmp_path / "r.yaml"))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "postprocess.precision" in err, err


def _boundary_steps(rgb: np.ndarray, inst: np.ndarray) -> np.ndarray:
    """Signed luminance steps across every instance boundary (between 4-neighbours whose
    instance ids differ), in one fixed order."""
    lum = rgb.astype(float) @ [0.299, 0.587, 0.114]
    across_x, across_y = inst[:, :-1] != inst[:, 1:], inst[:-1] != inst[1:]
    return np.concatenate([(lum[:, 1:] - lum[:, :-1])[across_x], (lum[1:] - lum[:-1])[across_y]])


def test_instance_boundaries_stay_where_they_were(strong):
    """Edge alignment with the instance map: the refined frame's luminance steps across instance
    boundaries follow the render's (correlation), and are not washed out; the same refined frame
    moved by 3 px does not follow them (the measure notices edges that move)."""
    plain = render(TINY_RECIPE)
    refined = render(TINY_RECIPE, [f"postprocess.refiner={strong}"])
    inst = plain.dense["instances"]
    for t in range(len(inst)):
        before = _boundary_steps(plain.frames[t], inst[t])
        after = _boundary_steps(refined.frames[t], inst[t])
        moved = _boundary_steps(np.roll(refined.frames[t], 3, axis=(0, 1)), inst[t])
        assert len(before) > 100
        follows, moved_follows = np.corrcoef(before, after)[0, 1], np.corrcoef(before, moved)[0, 1]
        assert follows > 0.55 and follows > moved_follows + 0.4, (t, follows, moved_follows)
        assert np.abs(after).mean() > 0.6 * np.abs(before).mean(), t


def test_clips_table_records_the_refiner(tmp_path, strong):
    from synthdata.io.contract import SCHEMA_VERSION
    from synthdata.io.verify import verify_dataset
    from synthdata.pipeline import finalize_dataset, generate_shard
    from synthdata.plan import plan
    from synthdata.recipe.loader import load_recipe

    recipe = load_recipe(TINY_RECIPE, ["output.clips=1", f"postprocess.refiner={strong}", "postprocess.strength=0.7"])
    out = str(tmp_path / "out")
    finalize_dataset(out, recipe, [generate_shard(recipe, s, out, device="cpu") for s in plan(recipe)])
    rows = pads.dataset(f"{out}/tables/clips").to_table().to_pylist()
    assert [(r["refiner_sha256"], r["refiner_strength"]) for r in rows] == [(file_sha256(strong), 0.7)]
    assert SCHEMA_VERSION == 3
    report, manifest = verify_dataset(out)
    assert report.problems == [] and manifest["schema_version"] == 3


# --- recipes and bad checkpoints -----------------------------------------------------------------

def test_recipe_path_is_relative_to_the_recipe_file(tmp_path, strong, monkeypatch):
    from synthdata.recipe.loader import load_recipe

    sub = tmp_path / "recipes"
    sub.mkdir()
    (sub / "mine.pt").write_bytes(strong.read_bytes())
    (sub / "r.yaml").write_text(TINY_RECIPE + "postprocess: {refiner: mine.pt, strength: 0.5}\n")
    monkeypatch.chdir(tmp_path)
    assert load_recipe("recipes/r.yaml").postprocess.refiner == str((sub / "mine.pt").resolve())
    (tmp_path / "other.pt").write_bytes(strong.read_bytes())       # an override is relative to the shell
    r = load_recipe("recipes/r.yaml", ["postprocess.refiner=other.pt"])
    assert r.postprocess.refiner == str((tmp_path / "other.pt").resolve())


def _bad_checkpoints(tmp_path, strong) -> dict[str, object]:
    good = torch.load(strong, weights_only=True)
    bodies = {"version": {**good, "version": VERSION + 1}, "channels": {**good, "channels": CHANNELS + 1},
              "foreign": {"model": good["generator"]["state"]}, "format": {**good, "format": "something-else"},
              "weights": {**good, "generator": {"config": good["generator"]["config"],
                                                "state": {"inc.weight": torch.zeros(1)}}}}
    paths: dict[str, object] = {}
    for name, body in bodies.items():
        torch.save(body, tmp_path / f"{name}.pt")
        paths[name] = tmp_path / f"{name}.pt"
    (tmp_path / "garbage.pt").write_bytes(b"\x00not a torch file" * 50)
    (tmp_path / "empty.pt").write_bytes(b"")
    paths["garbage"], paths["empty"], paths["missing"] = tmp_path / "garbage.pt", tmp_path / "empty.pt", tmp_path / "no.pt"
    return paths


EXPECT = {"version": f"refiner checkpoint version {VERSION + 1}; this synthdata reads version {VERSION}",
          "channels": f"refiner checkpoint for {CHANNELS + 1}-channel images", "foreign": f"without format {FORMAT!r}",
          "format": "not a synthdata refiner checkpoint", "weights": "generator does not load",
          "garbage": "cannot read it as a torch file", "empty": "cannot read it as a torch file",
          "missing": "no such synthdata refiner checkpoint file"}


def test_bad_checkpoints_exit_2_with_one_line(tmp_path, strong, capsys):
    for name, path in _bad_checkpoints(tmp_path, strong).items():
        code, out, err = cli(capsys, "refiner", "info", str(path))
        assert code == 2, (name, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, (name, err)
        assert err.startswith(f"error: {path}: ") and EXPECT[name] in err, (name, err)
    code, out, _ = cli(capsys, "refiner", "info", str(strong))
    assert code == 0 and f'"sha256": "{file_sha256(strong)}"' in out


def test_bad_checkpoint_in_a_recipe_is_a_located_line(tmp_path, strong, capsys):
    paths = _bad_checkpoints(tmp_path, strong)
    (tmp_path / "r.yaml").write_text(TINY_RECIPE + "postprocess:\n  refiner: channels.pt\n")
    code, _, err = cli(capsys, "validate", str(tmp_path / "r.yaml"))
    assert code == 2 and len(err.strip().splitlines()) == 1
    line = TINY_RECIPE.count("\n") + 2
    assert err.startswith(f"error: {tmp_path / 'r.yaml'}:{line}: postprocess.refiner: {paths['channels']}: "
                          f"{EXPECT['channels']}"), err


# --- training ------------------------------------------------------------------------------------

def test_training_is_deterministic_and_resumes_exactly(tiny, tmp_path):
    from synthdata.refine.data import load_real, load_synthetic
    from synthdata.refine.train import Trainer, TrainOptions

    _, synth, real = tiny
    r, s = load_real([real]), load_synthetic(synth)
    opts = TrainOptions(seed=4, crop=32, batch=4, history=8)
    a = Trainer(r, s, opts, torch.device("cpu"))
    for _ in range(4):
        a.train_step()
    b = Trainer(r, s, opts, torch.device("cpu"))
    for _ in range(2):
        b.train_step()
    b.save(tmp_path / "b.pt", {})
    c = Trainer(r, s, opts, torch.device("cpu"))
    c.load(tmp_path / "b.pt.train")
    for _ in range(2):
        c.train_step()
    for k, v in a.G.state_dict().items():
        assert torch.equal(v, c.G.state_dict()[k]), k
    other = Trainer(r, s, TrainOptions(seed=5, crop=32, batch=4, history=8), torch.device("cpu"))
    other.train_step()
    assert not torch.equal(other.G.inc.weight, a.G.inc.weight)


def test_train_command_writes_checkpoint_previews_and_resumes(tiny, tmp_path, capsys):
    _, synth, real = tiny
    out = tmp_path / "r.pt"
    args = ["refiner", "train", "--real", str(real), "--synthetic", str(synth), "--out", str(out), "--crop", "32",
            "--batch", "4", "--device", "cpu", "--threads", "1"]
    code, _, err = cli(capsys, *args, "--steps", "3")
    assert code == 0, err
    assert out.is_file() and (tmp_path / "r.pt.train").is_file() and out.stat().st_size < 5 * 2**20
    assert sorted(p.name for p in (tmp_path / "r.previews").iterdir()) == ["step_000000.png", "step_000003.png"]
    assert load_refiner(out).generator is not None
    code, _, err = cli(capsys, *args, "--steps", "5")
    assert code == 0 and "resuming from" in err and "at step 3" in err and "after 5 steps" in err, err
    code, _, err = cli(capsys, *args, "--steps", "5", "--seed", "9")
    assert code == 2 and "made with other options (seed 0 -> 9)" in err and len(err.strip().splitlines()) == 1


def test_train_command_sizes_the_generator(tiny, tmp_path, capsys):
    """--width and --blocks make a smaller generator, recorded in the checkpoint and refused when
    a resumed run asks for another size."""
    from synthdata.refine.checkpoint import load_checkpoint
    from synthdata.refine.model import Generator, parameter_count

    _, synth, real = tiny
    out = tmp_path / "small.pt"
    args = ["refiner", "train", "--real", str(real), "--synthetic", str(synth), "--out", str(out), "--crop", "32",
            "--batch", "4", "--device", "cpu", "--threads", "1", "--steps", "2"]
    code, _, err = cli(capsys, *args, "--width", "8", "--blocks", "1")
    assert code == 0, err
    ck = load_checkpoint(out)
    assert (ck.generator.config.width, ck.generator.config.blocks) == (8, 1)
    assert (ck.metadata["options"]["width"], ck.metadata["options"]["blocks"]) == (8, 1)
    assert parameter_count(ck.generator) < parameter_count(Generator()) / 3
    frames = torch.randint(0, 256, (2, 40, 56, 3), dtype=torch.uint8)
    assert refine_frames(frames, load_refiner(out)).shape == frames.shape
    code, _, err = cli(capsys, *args, "--width", "8", "--blocks", "2")
    assert code == 2 and "blocks 1 -> 2" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli(capsys, *args, "--width", "7", "--restart")
    assert code == 2 and "--width 7: expected an even number" in err and len(err.strip().splitlines()) == 1


def test_train_command_defaults_are_the_training_options_defaults():
    """The command line writes each option's default next to its help; it must be TrainOptions'
    (what a run without the flag trains with and what resuming compares)."""
    from dataclasses import fields

    from synthdata.refine.cli import train_command
    from synthdata.refine.train import TrainOptions

    cli_defaults = {p.name: p.default for p in train_command.params}
    shared = [f for f in fields(TrainOptions) if f.name in cli_defaults]
    assert {f.name for f in shared} >= {"seed", "crop", "batch", "lr", "reg", "temporal", "objects", "max_delta",
                                        "width", "blocks"}
    for f in shared:
        assert cli_defaults[f.name] == f.default, f.name


def test_train_command_bad_input(tiny, tmp_path, capsys):
    _, synth, real = tiny
    code, _, err = cli(capsys, "refiner", "train", "--real", str(real), "--synthetic", str(tmp_path),
                       "--out", str(tmp_path / "x.pt"))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    code, _, err = cli(capsys, "refiner", "train", "--real", str(tmp_path / "nope.mp4"), "--synthetic", str(synth),
                       "--out", str(tmp_path / "x.pt"))
    assert code == 2 and "nope.mp4: no such file or folder" in err


def test_short_training_lowers_the_discriminators_accuracy(tiny):
    """About a minute of training on 2 cores' worth of tiny data: a fresh real-vs-synthetic
    classifier and the trained discriminator both tell refined frames from real ones less well
    than the renders as they are."""
    from synthdata.refine.data import load_real, load_synthetic
    from synthdata.refine.metrics import classifier_accuracy
    from synthdata.refine.train import Trainer, TrainOptions

    _, synth, real = tiny
    r, s = load_real([real]), load_synthetic(synth)
    tr = Trainer(r, s, TrainOptions(seed=0, crop=32, batch=8, lr=5e-4), torch.device("cpu"))
    for _ in range(STEPS):
        tr.train_step()
    acc = tr.discriminator_accuracy()
    assert acc["refined"] < acc["rendered"], acc
    ref = load_refiner_from(tr)
    refined = [refine_frames(torch.from_numpy(f)[None], ref)[0].numpy() for f in s.first]
    half = len(r.frames) // 2
    gap = {name: classifier_accuracy(r.frames[:half], fr[::2], r.frames[half:], fr[1::2], steps=60, crop=32)
           for name, fr in (("rendered", s.first), ("refined", refined))}
    assert gap["refined"] < gap["rendered"] - 0.1, gap


STEPS = 80


def load_refiner_from(trainer):
    from synthdata.refine.apply import Refiner

    return Refiner("<memory>", "", trainer.G.eval(), torch.device("cpu"))


def test_flicker_warps_through_the_exact_flow(tiny):
    """The temporal loss and the flicker measure warp frame t+1 back to t through the stored
    forward flow: consecutive renders then agree far better than without the warp."""
    from synthdata.io.reader import open_dataset
    from synthdata.refine.losses import flicker

    _, synth, _ = tiny
    ds = open_dataset(str(synth))
    cid = ds.clip_ids()[0]
    m = ds.read_clip(cid, modalities=["rgb", "flow"])
    frames = torch.from_numpy(m["rgb"]).permute(0, 3, 1, 2).float() / 255
    flow = torch.from_numpy(m["flow"][:-1]).permute(0, 3, 1, 2)
    moves = torch.isfinite(flow).all(1, keepdim=True) & (torch.nan_to_num(flow).abs().sum(1, keepdim=True) > 0.5)
    assert moves.any()
    warped = flicker(frames, torch.where(moves, flow, torch.nan))
    in_place = flicker(frames, torch.where(moves, torch.zeros_like(flow), torch.nan))
    assert warped < 0.7 * in_place, (warped, in_place)     # sensor noise and H.264 stay in both


def test_preview_shows_refined_frames_as_a_run_writes_them(strong):
    from synthdata.recipe.loader import load_recipe
    from synthdata.render.preview import render_some_frames

    recipe = load_recipe(TINY_RECIPE, [f"postprocess.refiner={strong}"], source="<t>")
    frames, _, _ = render_some_frames(recipe, 0, "cpu", pick=lambda T: [2])
    assert np.array_equal(frames[2], render(TINY_RECIPE, [f"postprocess.refiner={strong}"]).frames[2])


def test_feature_distance_sees_a_camera_look(tiny):
    from synthdata.io.reader import open_dataset
    from synthdata.refine.metrics import feature_distance
    from tests.refine_fixtures import camera_look

    _, synth, _ = tiny
    ds = open_dataset(str(synth))
    a, b = ds.read_clip(ds.clip_ids()[0]), ds.read_clip(ds.clip_ids()[1])
    same_look = feature_distance(list(a), list(b))
    other_look = feature_distance(list(a), [camera_look(f) for f in b])
    assert other_look > 1.5 * same_look, (same_look, other_look)
