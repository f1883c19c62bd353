"""`synthdata refiner train|info`: train a sim-to-real refiner on the user's camera, inspect one."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
import numpy as np

from synthdata.errors import BadInput


@click.group("refiner")
def refiner_command() -> None:
    """A learned sim-to-real refiner: make renders look like your camera (labels unchanged)."""


@refiner_command.command("train")
@click.option("--real", "real", multiple=True, required=True, metavar="FOOTAGE_OR_PLATE_DIR",
              help="Your camera: a video, a folder of frames, one image or a plate folder (repeatable).")
@click.option("--synthetic", required=True, metavar="DATASET",
              help="A synthdata dataset (with the flow modality for temporal consistency).")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The checkpoint to write (refiner.pt).")
@click.option("--minutes", default=15.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Wall-clock budget of this call; rerunning resumes from <out>.train.")
@click.option("--steps", default=None, type=click.IntRange(min=1),
              help="Stop at this many steps in total (deterministic for a seed); default: only --minutes.")
@click.option("--device", default="auto", type=click.Choice(["auto", "cpu", "cuda"]), show_default=True)
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--crop", default=96, show_default=True, type=click.IntRange(16, 1024), help="Training crop side, px.")
@click.option("--batch", default=8, show_default=True, type=click.IntRange(1, 256))
@click.option("--lr", default=2e-4, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Adam learning rate of both networks.")
@click.option("--reg", default=1.0, show_default=True, type=click.FloatRange(min=0),
              help="Weight of the L1 self-regularisation to the render.")
@click.option("--temporal", default=1.0, show_default=True, type=click.FloatRange(min=0),
              help="Weight of the temporal-consistency loss through the exact flow.")
@click.option("--objects", default=2.0, show_default=True, type=click.FloatRange(min=0),
              help="Weight of the L1 to the render over labelled objects' pixels alone (needs the "
                   "dataset's instances), so a refiner cannot fade people into the background.")
@click.option("--max-delta", default=0.25, show_default=True, type=click.FloatRange(0.01, 1.0),
              help="Largest change per channel (0..1 of full scale).")
@click.option("--width", default=12, show_default=True, type=click.IntRange(2, 128),
              help="Generator channels at full resolution (even; 2x at a half, 3x at a quarter). "
                   "Fewer: a faster refiner with less capacity.")
@click.option("--blocks", default=3, show_default=True, type=click.IntRange(0, 16),
              help="Residual blocks of the generator's quarter-resolution body.")
@click.option("--real-frames", default=300, show_default=True, type=click.IntRange(min=1),
              help="Frames sampled from each real video or folder.")
@click.option("--pairs", default=160, show_default=True, type=click.IntRange(min=1),
              help="Synthetic frame pairs taken from the dataset.")
@click.option("--preview-every", default=120.0, show_default=True, type=click.FloatRange(min=1),
              help="Seconds between before/after previews (<out stem>.previews/).")
@click.option("--credit", default=None, help="A line stored with the checkpoint (e.g. the footage's licence).")
@click.option("--threads", default=0, type=click.IntRange(min=0),
              help="CPU threads for torch (0: torch's default, all cores).")
@click.option("--restart", is_flag=True, help="Ignore an earlier <out>.train and start over.")
def train_command(real: tuple[str, ...], synthetic: str, out: str, minutes: float, steps: int | None, device: str,
                  seed: int, crop: int, batch: int, lr: float, reg: float, temporal: float, objects: float, max_delta: float,
                  width: int, blocks: int, real_frames: int, pairs: int, preview_every: float, credit: str | None, threads: int, restart: bool) -> None:
    """Train a refiner on real frames (--real) and a synthdata dataset (--synthetic); write --out."""
    import torch

    from synthdata.pipeline import resolve_device
    from synthdata.refine.data import load_real, load_synthetic
    from synthdata.refine.train import Trainer, TrainOptions, run_training, train_state_path

    if width % 2:
        raise BadInput(f"--width {width}: expected an even number of channels (the first layer has width / 2)")
    if threads:
        torch.set_num_threads(threads)
    dev = resolve_device(device)
    out_path = Path(out)
    if out_path.exists() and out_path.is_dir():
        raise BadInput(f"--out {out}: is a folder; expected a checkpoint file name such as refiner.pt")
    real_data = load_real(list(real), max_frames=real_frames)
    synth = load_synthetic(synthetic, max_pairs=pairs)
    say = lambda text: click.echo(text, err=True)  # noqa: E731
    opts = TrainOptions(seed=seed, crop=crop, batch=batch, lr=lr, reg=reg, temporal=temporal, max_delta=max_delta,
                        width=width, blocks=blocks, objects=objects)
    trainer = Trainer(real_data, synth, opts, dev)
    state = train_state_path(out_path)
    if state.exists() and not restart:
        trainer.load(state)
    say(f"refiner: {len(real_data.frames)} real frames from {len(real)} source(s), {len(synth.first)} synthetic "
        f"pairs from {synth.source['clips']} clips; device {dev}")
    if trainer.step:
        say(f"refiner: resuming from {state} at step {trainer.step}")
    if synth.flow is None:
        say("refiner: the dataset stores no flow; temporal consistency is off "
            "(generate with output.modalities: [rgb, flow, instances])")
    if synth.objects is None and objects > 0:
        say("refiner: the dataset stores no instances; labelled objects are not kept apart from the background "
            "(generate with output.modalities: [rgb, flow, instances])")
    if steps is not None and trainer.step >= steps:
        say(f"refiner: already at step {trainer.step} (--steps {steps}); nothing to do")
        return
    previews = out_path.with_name(out_path.stem + ".previews")
    show = _Progress(minutes, steps, sys.stderr.isatty())
    meta = lambda t, m: _metadata(t, m, real_data, synth, dev, credit)  # noqa: E731
    mean = run_training(trainer, out_path, minutes=minutes, steps=steps, metadata=meta, on_step=show,
                        on_preview=lambda t: write_preview(t, previews), preview_every_s=preview_every)
    show.close()
    acc = trainer.discriminator_accuracy()
    say(f"refiner: wrote {out} after {trainer.step} steps ({_losses(mean)}); discriminator accuracy on held-out "
        f"crops: {acc['rendered']:.2f} on renders, {acc['refined']:.2f} on refined; previews in {previews}/")


@refiner_command.command("info")
@click.argument("checkpoint", type=click.Path(dir_okay=False))
def info_command(checkpoint: str) -> None:
    """Print a refiner checkpoint's sha256, size and metadata as JSON (exit 2 when it is not one)."""
    from synthdata.refine.checkpoint import load_checkpoint
    from synthdata.refine.model import parameter_count

    ck = load_checkpoint(checkpoint)
    click.echo(json.dumps({"path": checkpoint, "sha256": ck.sha256, "bytes": Path(checkpoint).stat().st_size,
                           "parameters": parameter_count(ck.generator), "generator": ck.generator.config.to_dict(),
                           "metadata": ck.metadata}, indent=2, sort_keys=True))


def _losses(m: dict[str, float]) -> str:
    return " ".join(f"{k} {v:.4f}" for k, v in m.items())


def _metadata(trainer: Any, mean: dict[str, float], real: Any, synth: Any, dev: Any, credit: str | None) -> dict:
    from synthdata import __version__
    from dataclasses import asdict

    meta = {"synthdata_version": __version__, "steps": trainer.step, "device": dev.type,
            "options": asdict(trainer.opt), "real": real.sources, "synthetic": synth.source,
            "losses": {k: round(v, 6) for k, v in mean.items()}}
    if credit:
        meta["credit"] = credit
    return meta


class _Progress:
    """A live line on a terminal (losses, steps/s, time left); a line every 50 steps otherwise."""

    def __init__(self, minutes: float, steps: int | None, tty: bool):
        import time
        self.t0, self.minutes, self.steps, self.tty, self.first = time.monotonic(), minutes, steps, tty, None

    def __call__(self, trainer: Any, mean: dict[str, float]) -> None:
        import time
        now = time.monotonic() - self.t0
        self.first = trainer.step - 1 if self.first is None else self.first
        rate = (trainer.step - self.first) / max(now, 1e-6)
        total = f"/{self.steps}" if self.steps else ""
        line = (f"step {trainer.step}{total} [{_clock(now)}/{_clock(self.minutes * 60)}] {_losses(mean)} "
                f"{rate:.1f} steps/s")
        if self.tty:
            click.echo("\r" + line[:150].ljust(150), nl=False, err=True)
        elif trainer.step % 50 == 0:
            click.echo(line, err=True)

    def close(self) -> None:
        if self.tty:
            click.echo("", err=True)


def _clock(s: float) -> str:
    return f"{int(s) // 60:02d}:{int(s) % 60:02d}"


def write_preview(trainer: Any, folder: Path, tiles: int = 3, width: int = 384) -> Path:
    """Before/after sheet: rows of (render, refined, |difference| x 4) for fixed synthetic frames,
    then a real frame; written to folder/step_NNNNNN.png."""
    import torch
    from PIL import Image

    synth, real = trainer.synth, trainer.real
    pick = sorted({int(round(x)) for x in np.linspace(0, len(synth.first) - 1, tiles)})
    rows = []
    with torch.no_grad():
        for i in pick:
            x = torch.from_numpy(synth.first[i]).to(trainer.device).permute(2, 0, 1)[None].float() / 255
            y = trainer.G(x)
            a = synth.first[i]
            b = (y[0].permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8)
            d = np.clip(np.abs(a.astype(int) - b.astype(int)) * 4, 0, 255).astype(np.uint8)
            rows.append([a, b, d])
    rows.append([real.frames[len(real.frames) // 2]])
    scale = width / rows[0][0].shape[1]
    ims = [[Image.fromarray(t).resize((width, max(1, int(t.shape[0] * scale)))) for t in r] for r in rows]
    h = max(im.height for r in ims for im in r)
    sheet = Image.new("RGB", (3 * width + 8, len(ims) * h + 4 * (len(ims) - 1)), (16, 16, 16))
    for r, row in enumerate(ims):
        for c, im in enumerate(row):
            sheet.paste(im, (c * (width + 4), r * (h + 4)))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"step_{trainer.step:06d}.png"
    sheet.save(path)
    return path
