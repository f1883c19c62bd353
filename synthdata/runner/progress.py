"""Progress of a run: a live bar on a terminal, JSON lines in batch jobs, or nothing.

A run reports four kinds of event, each a flat JSON-serialisable dict with an "event" key:
  start         shards_total, shards_todo, shards_committed, clips_todo, out, cluster
  shard_done    shard, clips, frames, objects, seconds
  shard_failed  shard, error
  done          shards_done, shards_failed, shards_skipped, clips, frames, objects, wall_s
                (start-up included), frames_per_s (over the generation, once workers were
                ready), shards_remaining, complete

`make_progress` picks the reporter: JSON lines go to stdout (the command's machine-readable
output), the bar and the text summary go to stderr. `--quiet` shows nothing but errors.
"""
from __future__ import annotations

import json
import sys
import threading
import time
from typing import IO, Any

LOG_FORMATS = ("auto", "text", "json")


class Progress:
    """Receives run events; the base class shows nothing (`--quiet`)."""

    def emit(self, event: dict[str, Any]) -> None:
        """Record one event (see the module docstring for the keys)."""

    def close(self) -> None:
        """Stop any live display; called once, also when the run is interrupted."""


class JsonLines(Progress):
    """One JSON object per line, flushed at once (batch logs, `jq`)."""

    def __init__(self, stream: IO[str]):
        self.stream = stream

    def emit(self, event: dict[str, Any]) -> None:
        self.stream.write(json.dumps({"time": round(time.time(), 3), **event}, separators=(",", ":")) + "\n")
        self.stream.flush()


def summary_line(done: dict[str, Any]) -> str:
    """The one-line human summary of a `done` event."""
    if done["complete"] and not done["shards_done"] and not done["shards_failed"]:
        return f"nothing to do: all {done['shards_total']} shards of {done['out']} were already committed"
    text = (f"{done['clips']} clips, {done['frames']} frames, {done['objects']} objects "
            f"in {done['wall_s']:.1f} s ({done['frames_per_s']:.1f} frames/s)")
    if done.get("shards_skipped"):
        text += f"; {done['shards_skipped']} shards were already committed"
    if done["shards_failed"]:
        return f"incomplete: {done['shards_failed']} shards failed; {text}"
    if done["complete"]:
        return f"done: {text}; dataset.json written to {done['out']}"
    return (f"partial: {text}; {done['shards_remaining']} of {done['shards_total']} shards remain "
            f"(dataset.json is written by the run that commits the last one)")


class Text(Progress):
    """Plain lines, one per finished shard plus the summary (text logs without a terminal)."""

    def __init__(self, stream: IO[str]):
        self.stream = stream
        self.total = 0
        self.finished = 0

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def emit(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "start":
            self.total = event["shards_todo"]
            self._line(f"generating {event['shards_todo']} of {event['shards_total']} shards "
                       f"({event['clips_todo']} clips) into {event['out']} on {event['cluster']}")
        elif kind in ("shard_done", "shard_failed"):
            self.finished += 1
            what = ("done" if kind == "shard_done" else f"FAILED: {event['error']}")
            self._line(f"shard {event['shard']} {what} [{self.finished}/{self.total}]")
        elif kind == "done":
            self._line(summary_line(event))


class Bar(Progress):
    """A single redrawn line: shards done/total, clips, frames/s, ETA; redrawn twice a second."""

    width = 24

    def __init__(self, stream: IO[str], refresh_s: float = 0.5):
        self.stream = stream
        self.total = 0
        self.done = self.failed = self.clips = self.frames = 0
        self.t0 = time.perf_counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, args=(refresh_s,), daemon=True)
        self._drawn = False
        self._closed = False

    def _tick(self, refresh_s: float) -> None:
        while not self._stop.wait(refresh_s):
            self._draw()

    def _draw(self) -> None:
        with self._lock:
            if self._closed:
                return
            elapsed = time.perf_counter() - self.t0
            finished = self.done + self.failed
            frac = finished / self.total if self.total else 1.0
            filled = round(frac * self.width)
            fps = self.frames / elapsed if elapsed > 0 else 0.0
            eta = elapsed / finished * (self.total - finished) if finished else None
            text = (f"[{'#' * filled}{'.' * (self.width - filled)}] {finished}/{self.total} shards"
                    f"  {self.clips} clips  {fps:.1f} frames/s  ETA {_clock(eta)}")
            if self.failed:
                text += f"  {self.failed} failed"
            self.stream.write("\r\x1b[2K" + text)
            self.stream.flush()
            self._drawn = True

    def emit(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "start":
            self.total = event["shards_todo"]
            self.t0 = time.perf_counter()
            self._thread.start()
        elif kind == "shard_done":
            self.done += 1
            self.clips += event["clips"]
            self.frames += event["frames"]
        elif kind == "shard_failed":
            self.failed += 1
        if kind == "done":
            self.close()
            self.stream.write(summary_line(event) + "\n")
            self.stream.flush()
        else:
            self._draw()

    def close(self) -> None:
        if self._closed:
            return
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        with self._lock:
            if self._drawn:
                self.stream.write("\r\x1b[2K")
                self.stream.flush()
            self._closed = True


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--:--"
    s = round(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def make_progress(log_format: str = "auto", quiet: bool = False, *,
                  stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> Progress:
    """`auto` means a bar when stderr is a terminal, JSON lines otherwise."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    if quiet:
        return Progress()
    if log_format == "auto":
        log_format = "text" if stderr.isatty() else "json"
    if log_format == "json":
        return JsonLines(stdout)
    return Bar(stderr) if stderr.isatty() else Text(stderr)
