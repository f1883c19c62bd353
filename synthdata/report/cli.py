"""`synthdata report DIR [--out report.html] [--samples N]`."""
from __future__ import annotations

import os

import click

from synthdata.errors import BadInput


def write_report(path: str, out: str, *, samples: int = 12, threads: int | None = None) -> dict:
    """Build the report of the dataset at `path` and write it to `out` (a local path, or a path
    or URL the io store layer can write, e.g. s3://bucket/prefix/report.html); returns the key
    numbers embedded in the page."""
    from synthdata.report.build import build_report

    check_out(out)
    page, data = build_report(path, samples=samples, threads=threads)
    if "://" in out:
        from synthdata.io.store import store_for

        parent, name = out.rstrip("/").rsplit("/", 1)
        store_for(parent).write_atomic(name, page.encode("utf-8"))
    else:
        tmp = f"{out}.part"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(page)
        os.replace(tmp, out)
    return data


def check_out(out: str) -> None:
    """BadInput unless `out` can be a file: a URL, or a local path that is not a folder and
    whose folder exists."""
    if "://" in out:
        return
    if os.path.isdir(out):
        raise BadInput(f"--out {out}: is a folder, expected an .html file path")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise BadInput(f"--out {out}: folder {folder} does not exist")


@click.command("report")
@click.argument("path", metavar="DIR")
@click.option("--out", "-o", default="report.html", show_default=True,
              help="HTML file to write (local path or fsspec URL).")
@click.option("--samples", type=click.IntRange(0, 200), default=12, show_default=True,
              help="Sample frames with labels drawn (spread over the clips).")
@click.option("--threads", type=click.IntRange(min=1), help="DuckDB threads (default: all cores).")
def report_command(path: str, out: str, samples: int, threads: int | None) -> None:
    """Write a self-contained HTML quality report of the dataset in DIR (local folder or URL):
    counts, label distributions, events, parameter coverage, sample frames with labels, warnings."""
    data = write_report(path, out, samples=samples, threads=threads)
    c = data["counts"]
    click.echo(f"wrote {out} ({c['clips']} clips, {c['objects']} object rows, "
               f"{len(data['warnings'])} warnings)")
