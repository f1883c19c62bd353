"""`build_report(path)`: the whole report of one dataset as HTML text (and its key numbers)."""
from __future__ import annotations

from typing import Any

from synthdata.io.inspect import count_noun
from synthdata.io.reader import open_dataset
from synthdata.report import plots
from synthdata.report.checks import warnings
from synthdata.report.coverage import coverage
from synthdata.report.page import Page, columns, esc, grid, note, table
from synthdata.report.samples import pick_frames, render_sample
from synthdata.report.stats import Stats, compute_stats
from synthdata.report.tables import connect


def build_report(path: str, *, samples: int = 12, threads: int | None = None) -> tuple[str, dict[str, Any]]:
    """(HTML page, key numbers) of the dataset at `path` (local folder or fsspec URL); the same
    dataset gives the same bytes. DatasetError when it is not a finished dataset."""
    ds = open_dataset(path)
    con = connect(ds, threads=threads)
    s = compute_stats(con, ds)
    params = coverage(con)
    shots = [render_sample(ds, c, f, camera=v) for c, v, f in pick_frames(con, samples)]
    alerts = warnings(s)
    m = ds.manifest
    page = Page(f"synthdata report: {m.get('name', path)}",
                f"{path} · schema v{m.get('schema_version')} · synthdata {m.get('synthdata_version')}")
    page.data = {
        "path": path, "name": m.get("name"), "schema_version": m.get("schema_version"),
        "synthdata_version": m.get("synthdata_version"), "recipe_sha256": m.get("recipe_sha256"),
        "counts": s.counts, "categories": {k: vars(v) for k, v in s.categories.items()},
        "histograms": {k: h.to_json() for k, h in s.histograms.items()},
        "events_per_type": s.events_per_type, "resolutions": s.resolutions, "fps": s.fps,
        "empty_clips": s.empty_clip_count, "refiners": s.refiners,
        "coverage": {p.name: p.to_json() for p in params},
        "warnings": alerts,
        "samples": [{"clip_id": x.clip_id, "camera": x.camera, "frame": x.frame, "objects": x.objects,
                     "zones": x.zones} for x in shots],
    }
    _summary(page, s, m, path)
    _warnings(page, alerts)
    _categories(page, s)
    h = s.histograms
    page.add("labels", "Label distributions", grid(plots.histogram(h["box_height"]), plots.histogram(h["visibility"]),
                                                    plots.histogram(h["truncation"]), plots.histogram(h["depth"])))
    page.add("density", "Objects per frame and track lengths",
             grid(plots.histogram(h["objects_per_frame"], ylabel="frames"),
                  plots.histogram(h["track_length"], ylabel="tracks")))
    _events(page, s)
    _coverage(page, params)
    _samples(page, shots)
    return page.render(), page.data


def _summary(page: Page, s: Stats, m: dict[str, Any], path: str) -> None:
    c = s.counts
    facts = [["dataset", m.get("name")], ["location", path], ["schema version", m.get("schema_version")],
             ["synthdata version", m.get("synthdata_version")], ["recipe sha256", m.get("recipe_sha256")],
             ["categories", ", ".join(m.get("categories", []))],
             ["resolution", ", ".join(f"{k} ({count_noun(v, 'clip')})" for k, v in s.resolutions.items())],
             ["frame rate", ", ".join(f"{k} fps ({count_noun(v, 'clip')})" for k, v in s.fps.items())]]
    if set(s.refiners) - {"none"}:          # a refined dataset (or a mix with some entries refined)
        facts.append(["sim-to-real refiner", ", ".join(f"{k} ({count_noun(v, 'clip')})" for k, v in s.refiners.items())])
    run = (m.get("timings") or {}).get("run") or {}
    if "wall_s" in run:
        facts.append(["generation wall time", f"{run['wall_s']:g} s"])
    stages = (m.get("timings") or {}).get("stages_s") or {}
    if stages:
        facts.append(["stage seconds", ", ".join(f"{k} {v:g}" for k, v in stages.items())])
    numbers = [[k.replace("_", " "), v] for k, v in c.items()]
    page.add("summary", "Summary", grid(table(["", ""], facts, numeric_from=2), table(["count", ""], numbers)))


def _warnings(page: Page, alerts: list[str]) -> None:
    if alerts:
        page.add("warnings", f"Warnings ({len(alerts)})", "<ul>" + "".join(f"<li>{esc(a)}</li>" for a in alerts)
                 + "</ul>", "warn")
    else:
        page.add("warnings", "Warnings", '<p class="ok">No problems found.</p>')


def _categories(page: Page, s: Stats) -> None:
    rows_ = [[k, v.tracks, v.objects, v.visible_objects, v.hidden_objects, v.tiny_boxes]
             for k, v in s.categories.items()]
    tab = table(["category", "tracks", "object rows", "visible", "fully hidden", f"boxes < {s.tiny_px:g} px"], rows_)
    chart = plots.bars("Tracks and object rows per category",
                       {k: (v.tracks, v.objects) for k, v in s.categories.items()},
                       series=("tracks", "object rows"), horizontal=True) if s.categories else ""
    page.add("categories", "Categories", grid(tab, chart))


def _events(page: Page, s: Stats) -> None:
    if not s.events_per_type:
        page.add("events", "Events", note("No events in this dataset."))
        return
    shown, total = len(s.timeline_clips), s.event_clip_count
    more = note(f"{count_noun(total, 'clip')} with events; the timeline shows the first {shown}.") if shown < total \
        else note(f"{count_noun(total, 'clip')} of {s.counts['clips']} with events.")
    page.add("events", "Events", grid(plots.bars("Events per type", s.events_per_type, horizontal=True),
                                      plots.timeline(s.timeline_clips, s.timeline)) + more)


def _coverage(page: Page, params: list) -> None:
    varied = [p for p in params if p.varied]
    fixed = [(p.title, p.value) for p in params if not p.varied]
    body = plots.coverage_grid(varied) if varied else note("No parameter varies between clips.")
    body = f'<div class="wide">{body}</div>'
    if fixed:
        body += "<h3>The same in every clip</h3>" + columns(fixed)
    page.add("coverage", "Parameter coverage", body)


def _samples(page: Page, shots: list) -> None:
    if not shots:
        page.add("samples", "Sample frames", note("No clips to show."))
        return
    figs = "".join(f'<figure><img src="{x.image}" width="{x.width}" height="{x.height}" '
                   f'alt="{esc(x.clip_id)} frame {x.frame}"><figcaption>{esc(x.clip_id)}'
                   f'{"" if x.camera == "cam0" else " · " + esc(x.camera)} · frame {x.frame} · '
                   f'{count_noun(x.objects, "object")}{" · " + count_noun(x.zones, "zone") if x.zones else ""}'
                   f'</figcaption></figure>' for x in shots)
    legend = note("Solid boxes: visible extent; thin dark boxes: amodal extent; tags: track id and category; "
                  "skeleton joints filled when visible, hollow when occluded; yellow: zones, cyan: tripwires.")
    page.add("samples", "Sample frames", legend + f'<div class="samples">{figs}</div>')
