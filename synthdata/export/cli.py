"""`synthdata export DIR --format F --out X`: a finished dataset in a foreign format."""
from __future__ import annotations

import click

from synthdata.export import EXPORTERS, export_dataset


def _formats_help() -> str:
    return "; ".join(f"{name}: {cls.description}" for name, cls in EXPORTERS.items())


@click.command("export", help="Export the finished dataset DIR (folder or URL) to a foreign format.\n\n"
                              "Formats: " + ", ".join(EXPORTERS))
@click.argument("dataset", metavar="DIR")
@click.option("--format", "fmt", required=True, metavar="FORMAT", help=_formats_help())
@click.option("--out", required=True, help="local folder to write; must be empty (or see --overwrite)")
@click.option("--min-visibility", type=float, default=None,
              help="leave out objects whose visible fraction is below this (0..1; default 0)")
@click.option("--categories", default=None, help="comma-separated categories to keep, e.g. person,car; "
                                                 "their order sets the class ids")
@click.option("--clips", type=int, default=None, help="export only the first N clips")
@click.option("--val-fraction", type=float, default=None, help="yolo: fraction of clips in val (default 0.2)")
@click.option("--min-height", type=int, default=None, help="reid: crops at least this many pixels tall (default 32)")
@click.option("--frame-step", type=int, default=None, help="reid: a crop every N frames (default 5)")
@click.option("--test-fraction", type=float, default=None,
              help="reid: fraction of identities in the test split (default 0.5)")
@click.option("--jpeg-quality", type=int, default=None, help="JPEG quality of the frames (default 95)")
@click.option("--workers", type=int, default=None, help="threads writing JPEG files (default 4)")
@click.option("--overwrite", is_flag=True, help="replace an earlier export in --out")
def export_command(dataset: str, fmt: str, out: str, min_visibility: float | None, categories: str | None,
                   clips: int | None, val_fraction: float | None, min_height: int | None, frame_step: int | None,
                   test_fraction: float | None, jpeg_quality: int | None, workers: int | None,
                   overwrite: bool) -> None:
    given = {"min_visibility": min_visibility, "categories": categories, "clips": clips,
             "val_fraction": val_fraction, "min_height": min_height, "frame_step": frame_step,
             "test_fraction": test_fraction, "jpeg_quality": jpeg_quality, "workers": workers}
    summary = export_dataset(dataset, fmt, out, overwrite=overwrite,
                             **{k: v for k, v in given.items() if v is not None})
    counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in summary["counts"].items())
    click.echo(f"exported {summary['source']['name']} as {fmt} to {summary['out']}: {counts} "
               f"({summary['seconds']:.1f} s)")
    if fmt == "yolo" and summary["counts"].get("val_clips") == 0 and summary["counts"].get("clips", 0) > 1:
        click.echo("warning: no clip fell into the val split; raise --val-fraction", err=True)
