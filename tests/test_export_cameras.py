"""Exports of a dataset with several cameras, each read back the way its consumer reads it: MOT
per camera (TrackEval-style gt.txt parsing), the AI City MTMC ground truth (space-delimited
columns, as its evaluation loads them) and Market-1501 ReID crops (torchreid's name parsing)."""
from __future__ import annotations

import csv
import json
import os
import re
from collections import defaultdict

import numpy as np
import pytest

from synthdata.export import export_dataset
from tests.test_cameras import _rows, multicam
from tests.test_export_mot import read_gt, read_seqinfo

__all__ = ["multicam"]


@pytest.fixture(scope="module")
def objects(multicam):
    return {(o["clip_id"], o["camera"], o["frame"], o["track_id"]): o for o in _rows(multicam, "objects")}


def test_mot_writes_one_sequence_per_camera_with_global_ids(multicam, objects, tmp_path):
    out = str(tmp_path / "mot")
    export_dataset(multicam, "mot", out)
    clips = {(c["clip_id"], c["camera"]): c for c in _rows(multicam, "clips")}
    with open(os.path.join(out, "seqmaps", "MOT17-train.txt")) as f:
        seqs = f.read().split()[1:]
    assert sorted(seqs) == sorted(f"{cid}_{cam}" for cid, cam in clips)
    lines = 0
    for (cid, cam), c in clips.items():
        seq = os.path.join(out, f"{cid}_{cam}")
        info = read_seqinfo(seq)
        assert (int(info["seqlength"]), int(info["imwidth"])) == (c["num_frames"], c["width"])
        gt = read_gt(seq)
        want = {(f + 1, t) for (c2, cam2, f, t) in objects if (c2, cam2) == (cid, cam)}
        assert {(int(r[0]), int(r[1])) for r in gt} == want
        for r in gt:
            o = objects[(cid, cam, int(r[0]) - 1, int(r[1]))]          # the id is the global track id
            assert np.allclose(r[2:6], [o["ax"], o["ay"], o["aw"], o["ah"]], atol=0.01)
        lines += len(gt)
    assert lines == len(objects)


def read_aicity(path: str) -> np.ndarray:
    """ground_truth.txt as AI City's evaluation reads it: 9 space-delimited numbers per line
    (camera_id obj_id frame_id xmin ymin width height xworld yworld)."""
    rows = [ln.split() for ln in open(path) if ln.strip()]
    assert all(len(r) == 9 for r in rows)
    return np.array(rows, dtype=float).reshape(-1, 9)


def test_mtmc_ground_truth_has_one_identity_and_place_in_every_camera(multicam, objects, tmp_path):
    import synthdata

    out = str(tmp_path / "mtmc")
    export_dataset(multicam, "mtmc", out)
    numbers = dict(ln.split()[::-1] for ln in open(os.path.join(out, "cameras.txt")))
    assert numbers == {"east": "1", "north": "2", "west": "3"}
    names = {int(v): k for k, v in numbers.items()}
    ds = synthdata.open_dataset(multicam)
    for cid in ds.clip_ids():
        gt = read_aicity(os.path.join(out, cid, "ground_truth.txt"))
        keys = [(int(r[0]), int(r[2]), int(r[1])) for r in gt]      # camera, frame, id
        assert keys == sorted(keys) and len(set(keys)) == len(keys)
        place = {}
        for cam_id, tid, frame, x, y, w, h, xw, yw in gt:
            o = objects[(cid, names[int(cam_id)], int(frame) - 1, int(tid))]
            assert np.allclose([x, y, w, h], [o["x"], o["y"], o["w"], o["h"]], atol=0.01)
            assert place.setdefault((int(tid), int(frame)), (xw, yw)) == (xw, yw)   # one place, every camera
            assert abs(xw - o["world_x"]) < 2e-3 and abs(yw - o["world_y"]) < 2e-3
        visible = {k for k, o in objects.items() if k[0] == cid and o["w"] is not None}
        assert len(gt) == len(visible)
        seen = defaultdict(set)
        for cam_id, tid, *_ in gt:
            seen[int(tid)].add(int(cam_id))
        for cam in ds.cameras(cid):
            folder = os.path.join(out, cid, f"camera_{int(numbers[cam]):04d}")
            with open(os.path.join(folder, "video.mp4"), "rb") as f:
                assert f.read() == ds.read_clip_bytes(cid, cam)
            cal = json.load(open(os.path.join(folder, "calibration.json")))
            assert cal["camera"] == cam and np.shape(cal["K"]) == (3, 3) and np.shape(cal["R"]) == (3, 3)
    assert any(len(c) >= 2 for c in seen.values())


MARKET = re.compile(r"([-\d]+)_c(\d)s(\d)_(\d{6})_(\d{2})\.jpg")   # torchreid's ([-\d]+)_c(\d), and the rest


def read_market(out: str) -> dict[str, list[tuple[int, int, str]]]:
    """Each folder's (pid, camid, file) as torchreid's Market1501 dataset parses the names."""
    split = {}
    for folder in ("bounding_box_train", "bounding_box_test", "query"):
        items = []
        for name in sorted(os.listdir(os.path.join(out, folder))):
            m = MARKET.fullmatch(name)
            assert m, name
            pid, camid = int(m.group(1)), int(m.group(2))
            assert pid >= 1 and 1 <= camid <= 9
            items.append((pid, camid, f"{folder}/{name}"))
        split[folder] = items
    return split


def test_reid_crops_follow_market1501_and_split_identities(multicam, objects, tmp_path):
    from PIL import Image

    from synthdata.io import rle

    out = str(tmp_path / "reid")
    summary = export_dataset(multicam, "reid", out, min_height=10, frame_step=1, min_visibility=0.6,
                             test_fraction=0.5)
    market = read_market(out)
    train = {p for p, _, _ in market["bounding_box_train"]}
    gallery = {p for p, _, _ in market["bounding_box_test"]}
    query = {p for p, _, _ in market["query"]}
    assert train and gallery and query
    assert not train & (gallery | query)                    # no identity on both sides
    for pid, cam, _ in market["query"]:                     # every query has a match from another camera
        assert any(p == pid and c != cam for p, c, _ in market["bounding_box_test"])
    rows = list(csv.DictReader(open(os.path.join(out, "crops.csv"))))
    assert len(rows) == sum(len(v) for v in market.values()) == summary["counts"]["crops"]
    pid_of = {}
    for r in rows:
        key = (r["clip_id"], r["camera"], int(r["frame"]), int(r["track_id"]))
        assert pid_of.setdefault((r["clip_id"], int(r["track_id"])), r["pid"]) == r["pid"]   # one pid per person
        o = objects[key]
        assert o["category"] == "person" and o["visibility"] >= 0.6
        x, y, w, h = (int(r[k]) for k in "xywh")
        assert h >= 10 and Image.open(os.path.join(out, r["file"])).size == (w, h)
        mask = rle.decode(o["mask"]).astype(bool)
        inside = mask[y:y + h, x:x + w].sum()
        assert inside == mask.sum()                         # the whole person is in the crop
        assert inside >= 0.25 * w * h                       # and covers a good share of it
    assert len(set(pid_of.values())) == len(pid_of)          # different people, different pids
