"""Fault injection for the runner tests: a Dask worker preload (Dask's own mechanism, set from the
test with DASK_DISTRIBUTED__WORKER__PRELOAD) that makes the worker process about to render clip
$FAULT_KILL_CLIP exit abruptly, once: it creates the flag file $FAULT_KILL_FLAG first, and an
existing flag disables it. Earlier clips of the shard are already encoded into the staging area,
so the rescheduled shard must start again from a half-written one. The package carries no hook
for this; the preload patches `synthdata.pipeline.generate_clip` in the worker only.
"""
from __future__ import annotations

import os
from typing import Any


def dask_setup(worker: Any) -> None:
    clip, flag = os.environ.get("FAULT_KILL_CLIP"), os.environ.get("FAULT_KILL_FLAG")
    if clip is None or not flag:
        return
    from synthdata import pipeline

    real = pipeline.generate_clip

    def dying(recipe: Any, index: int, **kw: Any) -> Any:
        if index == int(clip):
            try:
                os.close(os.open(flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                pass
            else:
                os._exit(70)
        return real(recipe, index, **kw)

    pipeline.generate_clip = dying
