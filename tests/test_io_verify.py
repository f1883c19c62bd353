"""`synthdata verify` and `synthdata inspect` as a user runs them."""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pyarrow.dataset as pads
import pytest

from synthdata.cli import main
from synthdata.pipeline import finalize_dataset, shard_writer
from tests.fakes import fake_clip, fake_recipe, write_fake_dataset
from synthdata.plan import plan


def run(args, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("ds"))
    write_fake_dataset(path)
    return path


@pytest.fixture
def copy(pristine, tmp_path) -> str:
    dest = str(tmp_path / "ds")
    shutil.copytree(pristine, dest)
    return dest


def test_verify_passes_a_sound_dataset(pristine, capsys):
    code, out, err = run(["verify", pristine], capsys)
    assert code == 0, err
    assert out.startswith("OK fake: 2 shards, 4 clips, 24 frames, 48 objects")
    assert "4 clips decoded" in out and "44 masks match their boxes" in out


def test_verify_lists_a_flipped_byte_and_a_truncated_table(copy, capsys):
    tar = os.path.join(copy, "videos/shard-000001.tar")
    data = bytearray(open(tar, "rb").read())
    data[2000] ^= 0xFF
    open(tar, "wb").write(bytes(data))
    table = os.path.join(copy, "tables/objects/shard-000000.parquet")
    data = open(table, "rb").read()
    open(table, "wb").write(data[: len(data) // 2])
    code, out, err = run(["verify", copy], capsys)
    assert code == 4 and out == ""
    lines = err.splitlines()
    assert lines[0].startswith("error: ") and "problems found" in lines[0]
    assert any("videos/shard-000001.tar: sha256" in line for line in lines)
    assert any("tables/objects/shard-000000.parquet" in line and "bytes, the manifest records" in line
               for line in lines)
    assert any("tables/objects/shard-000000.parquet: unreadable Parquet" in line for line in lines)


def test_verify_finds_a_box_that_disagrees_with_its_mask(tmp_path, capsys):
    recipe = fake_recipe(clips=1, clips_per_shard=1)
    clip = fake_clip(0)
    chunks = list(clip.chunks)
    chunks[0].objects["w"][2] += 3          # frame 1, track 1: box wider than its pixels
    clip.chunks = iter(chunks)
    with shard_writer(str(tmp_path), plan(recipe)[0], recipe) as w:
        w.add_clip(clip)
        marker = w.commit()
    finalize_dataset(str(tmp_path), recipe, [marker])
    code, _, err = run(["verify", str(tmp_path)], capsys)
    assert code == 4
    assert "fake-000000 frame 1 track 1: visible box" in err and "differs from its mask's extent" in err


def test_verify_finds_a_stray_shard_and_rows_out_of_order(copy, capsys):
    import pyarrow.parquet as pq

    tracks = os.path.join(copy, "tables/tracks/shard-000000.parquet")
    shutil.copy(tracks, os.path.join(copy, "tables/tracks/shard-000005.parquet"))
    table = pq.read_table(tracks)
    pq.write_table(table.take(list(range(table.num_rows))[::-1]), tracks)
    code, _, err = run(["verify", "--no-decode", copy], capsys)
    assert code == 4
    assert "tables/tracks/shard-000005.parquet: not listed in dataset.json" in err
    assert "tables/tracks/shard-000000.parquet: row 1 {'clip_id': 'fake-000001', 'track_id': 1} " \
           "is out of order" in err


def test_not_a_dataset_is_one_line_and_exit_2(tmp_path, capsys):
    code, out, err = run(["verify", str(tmp_path / "nowhere")], capsys)
    assert code == 2 and err == f"error: {tmp_path / 'nowhere'}: no such dataset folder\n"
    code, _, err = run(["inspect", str(tmp_path)], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and "not a synthdata dataset" in err


def test_inspect_json_matches_the_tables(pristine, capsys):
    code, out, err = run(["inspect", pristine, "--json"], capsys)
    assert code == 0, err
    s = json.loads(out)
    objects = pads.dataset(os.path.join(pristine, "tables/objects")).to_table().to_pylist()
    tracks = pads.dataset(os.path.join(pristine, "tables/tracks")).to_table().to_pylist()
    assert s["counts"] == {"shards": 2, "clips": 4, "videos": 4, "frames": 24, "objects": len(objects),
                           "visible_objects": sum(o["h"] is not None for o in objects),
                           "tracks": len(tracks), "events": 6}
    for cat in ("car", "person"):
        assert s["categories"][cat] == {
            "tracks": sum(t["category"] == cat for t in tracks),
            "objects": sum(o["category"] == cat for o in objects),
            "visible_objects": sum(o["category"] == cat and o["h"] is not None for o in objects)}
    heights = np.array([o["h"] for o in objects if o["h"] is not None])
    assert s["box_height_px"]["percentiles"]["p50"] == pytest.approx(np.percentile(heights, 50))
    assert s["box_height_px"]["histogram"]["8-16"] == int(((heights >= 8) & (heights < 16)).sum())
    assert sum(s["visibility"]["histogram"].values()) == len(objects)
    assert s["events"] == {"enter": 4, "group": 2}
    assert s["modalities"] == {"rgb": 4}          # no dense maps in this dataset
    assert s["refiners"] == {"none": 4}


def test_inspect_text_names_the_numbers(pristine, capsys):
    code, out, _ = run(["inspect", pristine], capsys)
    assert code == 0
    assert "2 shards, 4 clips, 24 frames, 48 object rows (44 visible), 8 tracks, 6 events" in out
    assert "events: enter 4, group 2" in out
    assert "refiner" not in out                     # nothing refined: no line


def test_inspect_counts_videos_by_refiner(pristine, tmp_path, capsys):
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    ds = tmp_path / "ds"
    shutil.copytree(pristine, ds)
    first = sorted((ds / "tables" / "clips").glob("*.parquet"))[0]
    t = pq.read_table(first)
    n = t.num_rows
    t = t.set_column(t.schema.get_field_index("refiner_sha256"), "refiner_sha256",
                     pa.array(["cd" * 32] * n, t.schema.field("refiner_sha256").type))
    pq.write_table(t.set_column(t.schema.get_field_index("refiner_strength"), "refiner_strength",
                                pa.array([1.0] * n, pa.float64())), first)
    code, out, _ = run(["inspect", str(ds), "--json"], capsys)
    assert code == 0 and json.loads(out)["refiners"] == {"none": 4 - n, f"{'cd' * 6} at strength 1": n}
    code, out, _ = run(["inspect", str(ds)], capsys)
    assert f"refiner: none ({4 - n} video{'s' * (4 - n != 1)}), {'cd' * 6} at strength 1 ({n} video" in out
