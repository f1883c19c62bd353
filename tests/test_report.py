"""`synthdata report`: the numbers on the page equal DuckDB queries over the tables; the page
renders in headless Chromium without console errors or outside requests and is not blank; a
dataset without events, one with a single clip, an s3:// dataset and `run --report` work too.
"""
from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from click.testing import CliRunner

from synthdata.cli import cli
from synthdata.report import write_report
from tests import fakes
from tests.browser import Browser, find_chromium
from tests.fakes import write_fake_dataset
from tests.test_runner_run import s3  # noqa: F401 - the moto S3 server fixture

duckdb = pytest.importorskip("duckdb")


def page_data(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="synthdata-report">(.*?)</script>', html, re.S)
    assert m, "the page embeds its numbers"
    return json.loads(m.group(1).replace("<\\/", "</"))


@pytest.fixture(scope="module")
def fake(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fake") / "ds"
    write_fake_dataset(str(out), clips=5, clips_per_shard=2, num_frames=6)
    return out


@pytest.fixture(scope="module")
def fake_report(fake) -> tuple[Path, dict]:
    html = fake.parent / "report.html"
    data = write_report(str(fake), str(html), samples=3)
    assert page_data(html.read_text()) == data
    return html, data


_CONNECTIONS: dict[Path, object] = {}


def q(root: Path, sql: str) -> list[tuple]:
    """Rows of `sql` over the Parquet files under root/tables (DuckDB's own reader)."""
    if root not in _CONNECTIONS:
        con = _CONNECTIONS[root] = duckdb.connect()
        for t in ("clips", "tracks", "objects", "events"):
            con.execute(f"CREATE TABLE {t} AS SELECT * FROM read_parquet('{root}/tables/{t}/*.parquet')")
    return _CONNECTIONS[root].execute(sql).fetchall()


def bin_where(col: str, hist: dict, i: int) -> str:
    e, n = hist["edges"], len(hist["labels"])
    lo = f"{col} >= {e[i]}" if i > 0 else "TRUE"
    hi = "TRUE" if i == n - 1 else f"{col} < {e[i + 1]}"
    return f"{lo} AND {hi} AND {col} IS NOT NULL AND NOT isnan({col})"


def test_numbers_equal_duckdb_queries(fake, fake_report):
    _, d = fake_report
    clips, frames = q(fake, "SELECT count(*), sum(num_frames) FROM clips")[0]
    objects, visible, hidden = q(fake, "SELECT count(*), count(h), count(*) FILTER (WHERE h IS NULL OR visibility = 0) "
                                       "FROM objects")[0]
    tracks, events = q(fake, "SELECT count(*) FROM tracks")[0][0], q(fake, "SELECT count(*) FROM events")[0][0]
    assert d["counts"] == {"shards": 3, "clips": clips, "frames": frames, "objects": objects,
                           "visible_objects": visible, "hidden_objects": hidden, "tracks": tracks, "events": events}
    assert (clips, frames, hidden) == (5, 30, 5)        # the fake car hides in each clip's last frame
    per_cat = {c: {"tracks": t} for c, t in q(fake, "SELECT category, count(*) FROM tracks GROUP BY 1")}
    for c, n, v, h, tiny in q(fake, "SELECT category, count(*), count(h), count(*) FILTER (WHERE h IS NULL OR "
                                    "visibility = 0), count(*) FILTER (WHERE w < 4 OR h < 4) FROM objects GROUP BY 1"):
        per_cat[c].update(objects=n, visible_objects=v, hidden_objects=h, tiny_boxes=tiny)
    assert d["categories"] == per_cat
    for name, col in (("box_height", "h"), ("visibility", "visibility"), ("truncation", "truncation"),
                      ("depth", "depth")):
        hist = d["histograms"][name]
        for cat, counts in hist["counts"].items():
            expect = [q(fake, f"SELECT count(*) FROM objects WHERE category = '{cat}' AND {bin_where(col, hist, i)}")[0][0]
                      for i in range(len(counts))]
            assert counts == expect, (name, cat)
        assert sum(hist["total"]) == q(fake, f"SELECT count({col}) FROM objects")[0][0]
    tl = d["histograms"]["track_length"]
    for cat, counts in tl["counts"].items():
        assert counts == [q(fake, f"SELECT count(*) FROM tracks WHERE category = '{cat}' AND "
                                  f"{bin_where('coalesce(num_frames, last_frame - first_frame + 1)', tl, i)}")[0][0] for i in range(len(counts))]
    per_frame = q(fake, "SELECT coalesce(o.n, 0) FROM (SELECT clip_id, unnest(range(num_frames)) AS frame FROM clips) f "
                        "LEFT JOIN (SELECT clip_id, frame, count(*) AS n FROM objects GROUP BY ALL) o USING (clip_id, frame)")
    opf = d["histograms"]["objects_per_frame"]
    edges = opf["edges"] + [np.inf]
    assert opf["total"] == [sum(edges[i] <= n < edges[i + 1] for (n,) in per_frame) for i in range(len(opf["labels"]))]
    assert d["events_per_type"] == dict(q(fake, "SELECT type, count(*) FROM events GROUP BY 1 ORDER BY 1"))
    assert d["events_per_type"] == {"enter": 5, "group": 2}
    cov = d["coverage"]
    assert cov["time_of_day"] == {"title": "time of day", "distinct": 1, "value": "day"}
    hfov = q(fake, "SELECT count(DISTINCT round(2 * degrees(atan(width / (2 * fx))), 6)) FROM clips")[0][0]
    assert cov["camera_hfov_deg"]["distinct"] == hfov
    assert cov["sun_elevation_deg"]["value"] == "45.0"      # read from the JSON attributes column
    assert [s["clip_id"] for s in d["samples"]] == ["fake-000000", "fake-000002", "fake-000004"]
    assert all(s["objects"] == 2 for s in d["samples"])
    assert any("category 'car' has only 5 tracks" in w for w in d["warnings"])


def test_page_renders_in_chromium(tmp_path, fake_report, monkeypatch):
    """Also the two small datasets: no events at all, and a single clip."""
    exe = find_chromium()
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (.ci/run installs Debian's chromium package)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    html, _ = fake_report
    pages = {"full": html}
    orig = fakes.fake_clip

    def no_events(*a, **kw):
        clip = orig(*a, **kw)
        clip.events.clear()
        return clip

    monkeypatch.setattr(fakes, "fake_clip", no_events)
    write_fake_dataset(str(tmp_path / "quiet"), clips=2, clips_per_shard=2)
    monkeypatch.setattr(fakes, "fake_clip", orig)
    write_fake_dataset(str(tmp_path / "one"), clips=1, clips_per_shard=1)
    pages["quiet"] = tmp_path / "quiet.html"
    d = write_report(str(tmp_path / "quiet"), str(pages["quiet"]))
    assert d["counts"]["clips"] == 2 and d["events_per_type"] == {} and "No events" in pages["quiet"].read_text()
    pages["one"] = tmp_path / "one.html"
    res = CliRunner().invoke(cli, ["report", str(tmp_path / "one"), "--out", str(pages["one"]), "--samples", "5"])
    assert res.exit_code == 0 and "wrote" in res.output, res.output
    d = page_data(pages["one"].read_text())
    assert d["counts"]["clips"] == 1 and [s["clip_id"] for s in d["samples"]] == ["fake-000000"]
    write_report(str(tmp_path / "one"), str(tmp_path / "again.html"), samples=5)
    assert (tmp_path / "again.html").read_bytes() == pages["one"].read_bytes()    # the same page, byte for byte
    bad = tmp_path / "bad.html"   # the harness itself must see errors and outside requests
    bad.write_text('<p>x</p><img src="http://example.invalid/a.png"><script>console.error("boom")</script>')
    from PIL import Image

    with Browser(exe) as browser:
        caught = browser.load(bad)
        assert any("boom" in e for e in caught.errors) and "http://example.invalid/a.png" in caught.requests
        for name, path in pages.items():
            got = browser.load(path)
            assert got.errors == [], (name, got.errors)
            outside = [u[:80] for u in got.requests if not u.startswith(("file:", "data:"))]
            assert outside == [], (name, outside)
            img = np.asarray(Image.open(io.BytesIO(got.png)).convert("RGB"), np.float32)
            assert img.shape[0] > 1500 and img.shape[1] == 1280
            assert img.std() > 20, f"{name}: the screenshot is nearly blank"
            band = img[:, :, :].reshape(-1, 3)
            assert len(np.unique(band[::97].astype(np.uint8), axis=0)) > 50   # plots, photos, text
            (tmp_path / f"{name}.png").write_bytes(got.png)


def test_bad_input_is_one_line_and_exit_2(fake, tmp_path, capsys):
    from synthdata.cli import main

    for args, msg in (([str(tmp_path / "nothing")], "no such dataset"), ([str(fake), "--out", str(tmp_path)], "is a folder"),
                      ([str(fake), "--out", str(tmp_path / "no" / "r.html")], "does not exist")):
        with pytest.raises(SystemExit) as e:
            main(["report", *args])
        err = capsys.readouterr().err
        assert e.value.code == 2 and msg in err and len(err.strip().splitlines()) == 1, (args, err)


def test_zones_are_drawn_where_the_camera_projects_them():
    from PIL import Image

    from synthdata.report.samples import ZONE_COLOR, draw_zones
    from synthdata.world.geometry.camera import Camera

    cam = Camera.from_pose(160, 120, position=(0.0, 0.0, 5.0), pan_deg=0.0, tilt_deg=40.0, hfov_deg=70.0)
    zone = {"kind": "zone", "name": "door", "points": [[-1, 6], [1, 6], [1, 8], [-1, 8]]}
    behind = {"kind": "tripwire", "name": "back", "points": [[-1, -6], [1, -6]]}
    img = Image.new("RGB", (160, 120))
    assert draw_zones(img, [zone, behind], cam) == 1
    uv, _ = cam.project(np.array([[-1, 6, 0], [1, 6, 0]], float), 0)
    px = np.asarray(img)
    mid = np.round(uv.mean(axis=0)).astype(int)           # the middle of the near edge
    patch = px[mid[1] - 1:mid[1] + 2, mid[0] - 1:mid[0] + 2].reshape(-1, 3)
    assert (patch == ZONE_COLOR).all(axis=1).any()


def test_s3_dataset(s3, tmp_path):  # noqa: F811
    url = f"s3://{s3}/ds"
    write_fake_dataset(url, clips=2, clips_per_shard=1)
    d = write_report(url, f"{url}/report.html", samples=2)
    import fsspec

    remote = fsspec.filesystem("s3").cat_file(f"{s3}/ds/report.html").decode()
    assert page_data(remote) == d
    assert d["counts"]["clips"] == 2 and len(d["samples"]) == 2


def test_run_with_report_writes_it_next_to_the_dataset(tmp_path):
    from tests.test_runner_run import RECIPE

    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE)
    out = tmp_path / "ds"
    res = CliRunner().invoke(cli, ["run", str(recipe), "output.clips=2", "--out", str(out), "--workers", "0",
                                   "--device", "cpu", "--log-format", "json", "--report"])
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "dataset.json").read_text())
    d = page_data((out / "report.html").read_text())
    assert {k: d["counts"][k] for k in manifest["counts"]} == manifest["counts"]
    assert len(d["samples"]) == 2


def test_warnings_name_each_problem_and_only_real_ones():
    from synthdata.report.checks import warnings
    from synthdata.report.stats import CategoryCounts, Stats

    def stats(cats: dict, empty: list[str]) -> Stats:
        return Stats(counts={"clips": 10}, categories=cats, histograms={}, events_per_type={}, timeline_clips=[],
                     event_clip_count=0, timeline=[], empty_clips=empty, empty_clip_count=len(empty), resolutions={}, fps={}, tiny_px=4.0)

    healthy = {"person": CategoryCounts(tracks=50, objects=1000, visible_objects=900, hidden_objects=100, tiny_boxes=9)}
    assert warnings(stats(healthy, [])) == []
    sick = {"person": CategoryCounts(tracks=50, objects=1000, visible_objects=600, hidden_objects=400, tiny_boxes=60),
            "bag": CategoryCounts(tracks=3, objects=30, visible_objects=30)}
    found = warnings(stats(sick, ["c-000007"]))
    assert len(found) == 4
    assert "1 of 10 clips have no object rows at all (c-000007)" in found[0]
    assert any("'bag' has only 3 tracks" in w for w in found)
    assert any("40% of 'person' object rows are fully hidden" in w for w in found)
    assert any("60 visible 'person' boxes (10.0%) are under 4 px" in w for w in found)


def test_the_summary_names_the_refiners_that_made_the_clips(fake, tmp_path):
    """Clips by refiner (sha256 and strength) in the page's numbers, and a summary line once any
    clip was refined (a mix can refine some entries' clips and not others)."""
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    assert write_report(str(fake), str(tmp_path / "plain.html"), samples=1)["refiners"] == {"none": 5}
    assert "sim-to-real refiner" not in (tmp_path / "plain.html").read_text()
    mixed = tmp_path / "ds"
    shutil.copytree(fake, mixed)
    files = sorted((mixed / "tables" / "clips").glob("*.parquet"))
    t = pq.read_table(files[0])
    sha = pa.array(["ab" * 32] * t.num_rows, t.schema.field("refiner_sha256").type)
    pq.write_table(t.set_column(t.schema.get_field_index("refiner_sha256"), "refiner_sha256", sha)
                    .set_column(t.schema.get_field_index("refiner_strength"), "refiner_strength",
                                pa.array([0.5] * t.num_rows, pa.float64())), files[0])
    data = write_report(str(mixed), str(tmp_path / "mixed.html"), samples=1)
    assert data["refiners"] == {"none": 5 - t.num_rows, f"{'ab' * 6} at strength 0.5": t.num_rows}
    text = re.sub(r"<[^>]+>", " ", (tmp_path / "mixed.html").read_text())
    assert re.search(rf"sim-to-real refiner\s+none \(\d clips?\), {'ab' * 6} at strength 0.5 \({t.num_rows} clips?\)", text)
