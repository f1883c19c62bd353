"""Training a refiner: `synthdata refiner train --real ... --synthetic DATASET --out refiner.pt`.

A `Trainer` holds the generator, the PatchGAN discriminator, their Adam optimisers, the history
buffer and the numpy Generator that draws crops. Everything that decides the result is fixed by
the seed and the options, so the same data, options and number of steps give the same weights on
the same device (wall-clock budgets only decide when to stop). `<out>.train` keeps the whole state
for resuming; `<out>` is the small checkpoint a recipe uses (refine/checkpoint.py).
"""
from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from synthdata.errors import BadInput
from synthdata.refine import losses as L
from synthdata.refine.checkpoint import RefinerError, read_torch_file, save_checkpoint
from synthdata.refine.data import RealFrames, SyntheticPairs, sample_batch, smallest_side
from synthdata.refine.model import Generator, GeneratorConfig, PatchDiscriminator

TRAIN_FORMAT, TRAIN_VERSION = "synthdata-refiner-train", 1
OBJECTS = 2.0                   # default weight of the objects' L1 (see TrainOptions)
OLD_DEFAULTS = {"objects": 0.0}  # what a training state written before an option existed trained with


@dataclass(frozen=True)
class TrainOptions:
    """What decides the weights (a resumed run must match them)."""

    seed: int = 0
    crop: int = 96
    batch: int = 8
    lr: float = 2e-4
    reg: float = 1.0            # self-regularisation weight (L1 to the render)
    temporal: float = 1.0       # temporal-consistency weight (0 without flow)
    objects: float = OBJECTS    # weight of the L1 to the render on labelled objects' pixels (0 without instances)
    history: int = 256          # history buffer size (crops)
    width: int = GeneratorConfig.width
    blocks: int = GeneratorConfig.blocks
    max_delta: float = GeneratorConfig.max_delta


class Trainer:
    def __init__(self, real: RealFrames, synth: SyntheticPairs, options: TrainOptions, device: torch.device):
        side = min(smallest_side(real.frames), smallest_side(synth.first))
        if options.crop > side:
            raise BadInput(f"--crop {options.crop}: larger than the smallest frame side ({side} px)")
        self.real, self.synth, self.opt, self.device = real, synth, options, device
        torch.manual_seed(options.seed)
        self.G = Generator(GeneratorConfig(options.width, options.blocks, options.max_delta)).to(device)
        self.D = PatchDiscriminator().to(device)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=options.lr, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=options.lr, betas=(0.5, 0.999))
        self.history = L.HistoryBuffer(options.history)
        self.rng = np.random.default_rng(options.seed)
        self.step = 0
        self.elapsed_s = 0.0
        self.use_temporal = synth.flow is not None and options.temporal > 0
        self.use_objects = synth.objects is not None and options.objects > 0

    def train_step(self) -> dict[str, float]:
        o = self.opt
        b = sample_batch(self.rng, self.real, self.synth, o.batch, o.crop, self.device)
        rendered = torch.cat([b.first, b.second])
        refined = self.G(rendered)
        # discriminator: real crops vs refined crops, half of them from the history buffer
        fake = self.history.mix(refined[: o.batch], self.rng)
        d_real, d_fake = self.D(b.real), self.D(fake)
        loss_d = 0.5 * (L.lsgan(d_real, 1.0) + L.lsgan(d_fake, 0.0))
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        # generator: look real, stay close to the render, move with the flow
        adv = L.lsgan(self.D(refined), 1.0)
        reg = (refined - rendered).abs().mean()
        tmp = (L.temporal(refined[: o.batch], b.first, refined[o.batch:], b.second, b.flow)
               if self.use_temporal else torch.zeros((), device=self.device))
        obj = (L.on_objects(refined, rendered, b.objects)
               if self.use_objects else torch.zeros((), device=self.device))
        loss_g = adv + o.reg * reg + o.temporal * tmp + o.objects * obj
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        self.step += 1
        return {"d": loss_d.item(), "adv": adv.item(), "reg": reg.item(), "temporal": tmp.item(),
                "objects": obj.item(), "d_acc": L.accuracy(d_real.detach(), d_fake.detach())}

    # --- state -----------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {"format": TRAIN_FORMAT, "version": TRAIN_VERSION, "options": asdict(self.opt), "step": self.step,
                "elapsed_s": self.elapsed_s, "G": self.G.state_dict(), "D": self.D.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                "history": self.history.state(), "rng": self.rng.bit_generator.state}

    def load(self, path: Path) -> None:
        st = read_torch_file(path, "refiner training state")
        if not isinstance(st, dict) or st.get("format") != TRAIN_FORMAT or st.get("version") != TRAIN_VERSION:
            raise RefinerError(f"{path}: not a refiner training state of this synthdata; remove it or pass --restart")
        theirs = {**OLD_DEFAULTS, **st["options"]}     # states from before an option existed
        if theirs != asdict(self.opt):
            diff = ", ".join(f"{k} {theirs.get(k)!r} -> {v!r}" for k, v in asdict(self.opt).items()
                             if theirs.get(k) != v)
            raise BadInput(f"{path}: made with other options ({diff}); use the same options to resume, "
                           "or pass --restart")
        self.G.load_state_dict(st["G"])
        self.D.load_state_dict(st["D"])
        self.opt_g.load_state_dict(st["opt_g"])
        self.opt_d.load_state_dict(st["opt_d"])
        self.history.load(st["history"], self.device)
        self.rng.bit_generator.state = st["rng"]
        self.step, self.elapsed_s = int(st["step"]), float(st["elapsed_s"])

    def save(self, out: Path, metadata: dict[str, Any]) -> str:
        """Write `<out>.train` (full state) and `out` (the checkpoint); returns the checkpoint's sha256."""
        state_path = train_state_path(out)
        tmp = state_path.with_name(state_path.name + ".tmp")
        torch.save(self.state(), tmp)
        os.replace(tmp, state_path)
        return save_checkpoint(out, self.G, metadata)

    def discriminator_accuracy(self, batches: int = 4) -> dict[str, float]:
        """The discriminator's patch accuracy on fresh crops, real vs refined and real vs the
        renders as they are (a refiner that works fools it more on refined ones)."""
        rng = np.random.default_rng(self.opt.seed + 1)
        acc_ref, acc_raw = [], []
        with torch.no_grad():
            for _ in range(batches):
                b = sample_batch(rng, self.real, self.synth, self.opt.batch, self.opt.crop, self.device)
                d_real = self.D(b.real)
                acc_ref.append(L.accuracy(d_real, self.D(self.G(b.first))))
                acc_raw.append(L.accuracy(d_real, self.D(b.first)))
        return {"refined": float(np.mean(acc_ref)), "rendered": float(np.mean(acc_raw))}


def train_state_path(out: Path) -> Path:
    return out.with_name(out.name + ".train")


def run_training(trainer: Trainer, out: Path, *, minutes: float, steps: int | None,
                 metadata: Callable[[Trainer, dict[str, float]], dict[str, Any]],
                 on_step: Callable[[Trainer, dict[str, float]], None] = lambda t, m: None,
                 on_preview: Callable[[Trainer], None] = lambda t: None, preview_every_s: float = 120.0,
                 save_every_s: float = 60.0) -> dict[str, float]:
    """Train until `steps` total steps or `minutes` of this call have passed, saving the state
    every `save_every_s`, at the end and when interrupted; returns the running mean losses."""
    started = time.monotonic()
    last_save = last_preview = started
    mean: dict[str, float] = {}
    if trainer.step == 0:
        on_preview(trainer)
    try:
        while (steps is None or trainer.step < steps) and time.monotonic() - started < minutes * 60:
            t0 = time.monotonic()
            m = trainer.train_step()
            trainer.elapsed_s += time.monotonic() - t0
            mean = {k: v if k not in mean else 0.95 * mean[k] + 0.05 * v for k, v in m.items()}
            on_step(trainer, mean)
            now = time.monotonic()
            if now - last_preview >= preview_every_s:
                on_preview(trainer)
                last_preview = now
            if now - last_save >= save_every_s:
                trainer.save(out, metadata(trainer, mean))
                last_save = now
    finally:
        trainer.save(out, metadata(trainer, mean))
    on_preview(trainer)
    return mean
