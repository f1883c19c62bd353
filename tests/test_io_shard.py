"""Shards on disk: byte-identical rewrites, tar byte ranges, Parquet tables, atomic commit."""
from __future__ import annotations

import json
import os
import tarfile

import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
import yaml

from synthdata.errors import DatasetError
from synthdata.io.contract import CONTRACT
from synthdata.io.manifest import read_manifest
from synthdata.io.records import ClipRecord, FrameChunk
from synthdata.io.shard import clean_leftovers, committed_shards, is_leftover
from synthdata.pipeline import finalize_dataset, shard_writer
from tests.fakes import fake_clip, fake_recipe, write_fake_dataset
from synthdata.plan import plan, recipe_sha256


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("ds"))
    write_fake_dataset(path)   # 4 clips of 6 frames, 2 shards
    return path


def data_files(root: str) -> dict[str, bytes]:
    found = {}
    for d, _, files in os.walk(root):
        for f in files:
            rel = os.path.relpath(os.path.join(d, f), root)
            if rel.startswith(("videos", "tables")) or rel == "recipe.yaml":
                found[rel] = open(os.path.join(d, f), "rb").read()
    return found


def test_rewriting_gives_byte_identical_shards(out, tmp_path):
    write_fake_dataset(str(tmp_path))
    first, again = data_files(out), data_files(str(tmp_path))
    assert len(first) == 11 and first.keys() == again.keys()
    assert [k for k in first if first[k] != again[k]] == []
    markers = committed_shards(out), committed_shards(str(tmp_path))
    assert [m["files"] for m in markers[0].values()] == [m["files"] for m in markers[1].values()]


def test_layout_marker_and_manifest(out):
    markers = committed_shards(out)
    assert list(markers) == [0, 1]
    m = markers[1]
    assert m["counts"] == {"clips": 2, "frames": 12, "objects": 24, "tracks": 4, "events": 3}
    assert m["clip_ids"] == ["fake-000002", "fake-000003"]
    for rel, rec in m["files"].items():
        assert os.path.getsize(os.path.join(out, rel)) == rec["size"]
    manifest = read_manifest(out)
    recipe = fake_recipe()
    assert manifest["recipe_sha256"] == recipe_sha256(recipe) == m["recipe_sha256"]
    assert manifest["categories"] == ["car", "person"]
    assert manifest["counts"] == {"shards": 2, "clips": 4, "frames": 24, "objects": 48, "tracks": 8,
                                  "events": 6}
    assert yaml.safe_load(open(os.path.join(out, "recipe.yaml")))["name"] == "fake"
    assert not os.path.exists(os.path.join(out, "_tmp"))


def test_tar_members_and_byte_ranges(out):
    path = os.path.join(out, "videos", "shard-000000.tar")
    with tarfile.open(path) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["fake-000000.mp4", "fake-000000.json",
                                            "fake-000001.mp4", "fake-000001.json"]
        assert {(m.mtime, m.uid, m.gid, m.uname, m.mode) for m in members} == {(0, 0, 0, "", 0o644)}
        clips = pq.read_table(os.path.join(out, "tables/clips/shard-000000.parquet")).to_pylist()
        with open(path, "rb") as f:
            for c in clips:
                f.seek(c["video_offset"])
                assert f.read(c["video_size"]) == tar.extractfile(c["video_member"]).read()
        meta = json.loads(tar.extractfile("fake-000001.json").read())
    assert meta["clip_id"] == "fake-000001" and meta["params"] == {"index": 1, "name": "fake"}
    assert meta["clip"]["num_frames"] == 6 and meta["clip"]["video_member"] == "fake-000001.mp4"


def test_tables_carry_schema_metadata_order_and_dictionaries(out):
    sha = recipe_sha256(fake_recipe())
    for name in CONTRACT:
        f = pq.ParquetFile(os.path.join(out, f"tables/{name}/shard-000001.parquet"))
        meta = json.loads(f.schema_arrow.metadata[b"synthdata"])
        assert meta["schema_version"] == 3 and meta["recipe_sha256"] == sha and meta["table"] == name
        assert f.schema_arrow.remove_metadata().equals(CONTRACT[name].schema)
    objects = pq.ParquetFile(os.path.join(out, "tables/objects/shard-000001.parquet"))
    col = objects.metadata.row_group(0).column(objects.schema_arrow.get_field_index("category"))
    assert col.compression == "ZSTD" and "RLE_DICTIONARY" in col.encodings
    assert objects.metadata.num_row_groups == 2   # one per clip: a reader can skip to one clip
    keys = [(r["clip_id"], r["frame"], r["track_id"]) for r in objects.read().to_pylist()]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_extra_keys_are_kept_as_json_attributes(out):
    clip = pads.dataset(os.path.join(out, "tables/clips")).to_table().to_pylist()[0]
    assert clip["weather"] == "clear" and json.loads(clip["attributes"]) == {"sun_elevation_deg": 45.0}
    track = pads.dataset(os.path.join(out, "tables/tracks")).to_table().to_pylist()[0]
    assert json.loads(track["attributes"]) == {"height_m": 1.7, "shirt": "red"}


def test_whole_tables_read_across_shards(out):
    import duckdb

    objects = pads.dataset(os.path.join(out, "tables/objects"), format="parquet").to_table()
    assert objects.num_rows == 48 and len(set(objects["clip_id"].to_pylist())) == 4
    con = duckdb.connect()
    n, clips, hidden = con.execute(
        f"select count(*), count(distinct clip_id), count(*) filter (where x is null) "
        f"from read_parquet('{out}/tables/objects/*.parquet')").fetchone()
    assert (n, clips, hidden) == (48, 4, 4)   # the car is hidden in each clip's last frame
    assert con.execute(f"select count(*) from read_parquet('{out}/tables/events/*.parquet') "
                       f"where track_id is null").fetchone() == (2,)


def test_events_table_is_written_when_empty(tmp_path):
    recipe = fake_recipe(clips=1, clips_per_shard=1)
    clip = fake_clip(0)
    clip.events = []
    with shard_writer(str(tmp_path), plan(recipe)[0], recipe) as w:
        w.add_clip(clip)
        marker = w.commit()
    events = pq.read_table(tmp_path / "tables/events/shard-000000.parquet")
    assert events.num_rows == 0 and events.schema.remove_metadata().equals(CONTRACT["events"].schema)
    assert marker["counts"]["events"] == 0


def failing_clip(index: int) -> ClipRecord:
    clip = fake_clip(index)
    first = next(clip.chunks)

    def chunks():
        yield first
        raise RuntimeError("renderer crashed")

    clip.chunks = chunks()
    return clip


def test_a_failure_mid_shard_leaves_nothing_visible(tmp_path):
    recipe = fake_recipe()
    spec = plan(recipe)[0]
    with pytest.raises(RuntimeError, match="renderer crashed"):
        with shard_writer(str(tmp_path), spec, recipe) as w:
            w.add_clip(fake_clip(0))
            w.add_clip(failing_clip(1))
            w.commit()
    assert committed_shards(str(tmp_path)) == {}
    assert sorted(os.listdir(tmp_path)) in ([], ["_tmp"])
    assert not any(files for d, _, files in os.walk(tmp_path))


def logged_clip(index: int, log: list) -> ClipRecord:
    clip = fake_clip(index)
    made = clip.chunks

    def chunks():
        for ch in made:
            log.append(f"chunk {index}.{ch.start}")
            yield ch

    clip.chunks = chunks()
    return clip


def test_a_clips_video_is_finished_while_the_next_clip_renders(tmp_path, monkeypatch):
    # the encoder of clip 0 still works on its last chunk when add_clip returns; its video goes
    # into the tar only once clip 1 has made its first chunk, and the shard is the same bytes
    from synthdata.io import video

    log: list[str] = []
    close = video.VideoEncoder.close
    monkeypatch.setattr(video.VideoEncoder, "close",
                        lambda self: log.append(f"close {os.path.basename(self.path)}") or close(self))
    recipe = fake_recipe()
    spec = plan(recipe)[0]
    with shard_writer(str(tmp_path / "a"), spec, recipe) as w:
        for i in spec.clip_indices:
            w.add_clip(logged_clip(i, log))
        w.commit()
    starts = sorted({int(e.split(".")[1]) for e in log if e.startswith("chunk 0.")})
    assert len(starts) > 1     # the clips have more than one chunk
    last = f"chunk 0.{starts[-1]}"
    assert log[log.index(last) + 1:log.index(last) + 3] == ["chunk 1.0", "close fake-000000.mp4"]
    assert log[-1] == "close fake-000001.mp4"
    write_fake_dataset(str(tmp_path / "b"))
    for rel in ("videos/shard-000000.tar", "tables/clips/shard-000000.parquet"):
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()


def test_an_encoder_failing_after_its_clip_was_added_fails_the_shard(tmp_path, monkeypatch):
    from synthdata.io import video

    def broken(self, arr, first, done=None, prepare=None):
        raise OSError("disk full while encoding")

    recipe = fake_recipe()
    spec = plan(recipe)[0]
    with pytest.raises(OSError, match="disk full"):
        with shard_writer(str(tmp_path), spec, recipe) as w:
            monkeypatch.setattr(video.VideoEncoder, "_encode", broken)
            w.add_clip(fake_clip(0))    # the encoder thread fails after this returns
            w.add_clip(fake_clip(1))
            w.commit()
    assert committed_shards(str(tmp_path)) == {}
    assert not any(files for d, _, files in os.walk(tmp_path))


def test_clean_leftovers_removes_what_a_killed_writer_left(out, tmp_path):
    recipe = fake_recipe()
    specs = plan(recipe)
    with shard_writer(str(tmp_path), specs[0], recipe) as w:
        w.add_clip(fake_clip(0))
        w.add_clip(fake_clip(1))
        w.commit()
    killed = shard_writer(str(tmp_path), specs[1], recipe)   # never committed nor aborted
    killed.add_clip(fake_clip(2))
    os.makedirs(tmp_path / "tables/objects", exist_ok=True)   # published, marker never written
    with open(tmp_path / "tables/objects/shard-000001.parquet", "wb") as f:
        f.write(b"half")
    staged = os.listdir(tmp_path / "_tmp")
    assert staged and all(is_leftover(f"_tmp/{n}") for n in staged)
    removed = clean_leftovers(str(tmp_path))
    assert removed == ["_tmp/", "tables/objects/shard-000001.parquet"]
    assert not os.path.exists(tmp_path / "_tmp")
    assert list(committed_shards(str(tmp_path))) == [0]
    assert os.path.exists(tmp_path / "tables/objects/shard-000000.parquet")


@pytest.mark.parametrize("break_it, message", [
    (lambda c: c.clip_row.update(num_frames=7), "num_frames=7"),
    (lambda c: setattr(c, "chunks", (FrameChunk(ch.start + 1, ch.frames, ch.objects) for ch in c.chunks)),
     "expected 0"),
    (lambda c: setattr(c, "chunks", (FrameChunk(ch.start, ch.frames,
                                                {**ch.objects, "speed": ch.objects["frame"]})
                                     for ch in c.chunks)), "unknown object columns"),
])
def test_writer_rejects_inconsistent_clips(tmp_path, break_it, message):
    recipe = fake_recipe(clips=1, clips_per_shard=1)
    clip = fake_clip(0)
    break_it(clip)
    with pytest.raises(ValueError, match=message):
        with shard_writer(str(tmp_path), plan(recipe)[0], recipe) as w:
            w.add_clip(clip)
            w.commit()
    assert committed_shards(str(tmp_path)) == {}


def test_finalize_needs_every_shard(tmp_path):
    recipe = fake_recipe()
    spec = plan(recipe)[0]
    with shard_writer(str(tmp_path), spec, recipe) as w:
        w.add_clip(fake_clip(0))
        w.add_clip(fake_clip(1))
        marker = w.commit()
    with pytest.raises(ValueError, match="shards 0..1"):
        finalize_dataset(str(tmp_path), recipe, {0: marker})
    with pytest.raises(DatasetError, match="not a finished dataset"):
        read_manifest(str(tmp_path))
    assert not os.path.exists(tmp_path / "dataset.json")


def test_read_manifest_refuses_what_is_not_a_dataset(tmp_path):
    with pytest.raises(DatasetError, match="no such dataset folder"):
        read_manifest(str(tmp_path / "missing"))
    with pytest.raises(DatasetError, match="not a synthdata dataset"):
        read_manifest(str(tmp_path))
    (tmp_path / "dataset.json").write_text(json.dumps({"schema_version": 9, "shards": []}))
    with pytest.raises(DatasetError, match="schema version 9"):
        read_manifest(str(tmp_path))


def test_remote_store_commits_marker_last_and_reads_back():
    import fsspec

    from synthdata.io.reader import open_dataset

    url = "memory://synthdata-test/ds"
    manifest = write_fake_dataset(url, clips=2, clips_per_shard=1)
    fs = fsspec.filesystem("memory")
    assert fs.exists("/synthdata-test/ds/_shards/shard-000001.json")
    assert manifest["counts"]["clips"] == 2
    ds = open_dataset(url)
    assert ds.read_clip("fake-000001").shape == (6, 48, 64, 3)
    assert ds.objects.count_rows() == 24
    fs.pipe_file("/synthdata-test/ds/videos/shard-000007.tar", b"orphan")
    assert clean_leftovers(url) == ["videos/shard-000007.tar"]
    fs.rm("/synthdata-test/ds", recursive=True)
