"""The refiner checkpoint: one torch file holding the generator and what made it.

    {"format": "synthdata-refiner", "version": 1, "channels": 3,
     "generator": {"config": GeneratorConfig fields, "state": state_dict},
     "metadata": {"synthdata_version", "steps", "seed", "device", "real": [...], "synthetic": ...,
                  "losses": {...}, "credit": ...}}

It is read with `torch.load(weights_only=True)` (no code runs). A missing, corrupt or foreign
file, another version or another channel count is a RefinerError (BadInput, exit 2) of one line
naming the file. Training keeps its full state (discriminator, optimisers, history buffer,
random states) beside it in `<checkpoint>.train` so a run resumes (refine/train.py).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from synthdata.errors import BadInput
from synthdata.plate.footage import file_sha256
from synthdata.refine.model import Generator, GeneratorConfig

FORMAT = "synthdata-refiner"
VERSION = 1
CHANNELS = 3


class RefinerError(BadInput):
    """A refiner checkpoint that cannot be used (one line naming the file)."""


@dataclass
class Checkpoint:
    """A loaded, checked refiner checkpoint: the generator on the CPU, its sha256 and metadata."""

    path: str
    sha256: str
    generator: Generator
    metadata: dict[str, Any] = field(default_factory=dict)


def save_checkpoint(path: str | os.PathLike, generator: Generator, metadata: dict[str, Any]) -> str:
    """Write the checkpoint atomically (temp file + rename); returns its sha256."""
    body = {"format": FORMAT, "version": VERSION, "channels": CHANNELS,
            "generator": {"config": generator.config.to_dict(),
                          "state": {k: v.detach().cpu().clone() for k, v in generator.state_dict().items()}},
            "metadata": metadata}
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    torch.save(body, tmp)
    os.replace(tmp, p)
    return file_sha256(p)


def read_torch_file(path: str | os.PathLike, what: str) -> Any:
    """torch.load(weights_only=True) of `path` on the CPU; RefinerError naming it when it cannot be read."""
    p = Path(path)
    if not p.is_file():
        raise RefinerError(f"{p}: no such {what} file" if not p.exists() else f"{p}: is not a file; expected a {what}")
    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file is the user's input, not a bug
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise RefinerError(f"{p}: not a {what} (cannot read it as a torch file: {reason[:120]})") from None


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read and check a refiner checkpoint (see the module docstring); the generator is in eval mode."""
    p = Path(path)
    body = read_torch_file(p, "synthdata refiner checkpoint")
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise RefinerError(f"{p}: not a synthdata refiner checkpoint (a torch file without format {FORMAT!r}; "
                           "make one with `synthdata refiner train`)")
    if body.get("version") != VERSION:
        raise RefinerError(f"{p}: refiner checkpoint version {body.get('version')!r}; this synthdata reads "
                           f"version {VERSION}")
    if body.get("channels") != CHANNELS:
        raise RefinerError(f"{p}: refiner checkpoint for {body.get('channels')!r}-channel images; synthdata "
                           f"renders {CHANNELS} (RGB)")
    gen = body.get("generator")
    try:
        config = GeneratorConfig(**gen["config"])
        generator = Generator(config)
        generator.load_state_dict(gen["state"])
    except Exception as e:  # noqa: BLE001
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise RefinerError(f"{p}: the refiner checkpoint's generator does not load ({reason[:160]})") from None
    generator.eval()
    meta = body.get("metadata")
    return Checkpoint(str(p), file_sha256(p), generator, meta if isinstance(meta, dict) else {})
