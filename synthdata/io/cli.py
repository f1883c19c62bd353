"""Commands of the io room: `synthdata verify DIR` and `synthdata inspect DIR [--json]`.

DIR may be a local folder or an fsspec URL. Not a dataset -> DatasetError (exit 2); problems
found by verify -> VerifyFailed listing each one (exit 4).
"""
from __future__ import annotations

import json

import click

from synthdata.errors import VerifyFailed


@click.command("verify")
@click.argument("directory")
@click.option("--no-decode", is_flag=True,
              help="Skip decoding every clip (hashes and tables are still checked).")
def verify_command(directory: str, no_decode: bool) -> None:
    """Check a dataset: hashes and sizes, table schemas and row counts, row order, that every clip
    decodes to its frame count, and that visible boxes match their masks."""
    from synthdata.io.inspect import count_noun as _n
    from synthdata.io.verify import verify_dataset

    report, manifest = verify_dataset(directory, decode=not no_decode)
    if not report.ok:
        n = sum(report.per_kind.values())
        raise VerifyFailed("\n".join([f"{directory}: {_n(n, 'problem')} found"] + report.lines()))
    c = report.checked
    videos = "" if no_decode else f", {_n(c['videos'], 'video' if c['clip_ids'] != c['clips'] else 'clip')} decoded"
    views = "" if c["clip_ids"] == c["clips"] else f" ({c['clips']} videos: several cameras)"
    click.echo(f"OK {manifest.get('name')}: {_n(len(manifest['shards']), 'shard')}, "
               f"{_n(c['clip_ids'], 'clip')}{views}, "
               f"{_n(c['frames'], 'frame')}, {_n(c['objects'], 'object')}, {_n(c['tracks'], 'track')}, "
               f"{_n(c['events'], 'event')}; {_n(c['files'], 'file')} hashed{videos}, "
               f"{_n(c['masks'], 'mask')} match their boxes")



@click.command("inspect")
@click.argument("directory")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def inspect_command(directory: str, as_json: bool) -> None:
    """Summarise a dataset: counts per category, frames, objects, box-height and visibility
    distributions, events per type."""
    from synthdata.io.inspect import format_summary, inspect_dataset

    summary = inspect_dataset(directory)
    click.echo(json.dumps(summary) if as_json else format_summary(summary))
