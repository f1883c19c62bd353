"""Ultralytics YOLO export read back as Ultralytics reads it (data.yaml, images/ -> labels/)."""
from __future__ import annotations

import os
from typing import ClassVar

import pytest
import yaml

from synthdata.export.yolo import split_of
from tests.test_export_common import ExporterContract, Label, ReadBack, clip_meta, dataset_dir

__all__ = ["dataset_dir"]


def read_data_yaml(out: str) -> dict:
    with open(os.path.join(out, "data.yaml")) as f:
        return yaml.safe_load(f)


def splits(out: str) -> dict[str, str]:
    """clip_id -> split, from where its images lie."""
    found = {}
    for split in ("train", "val"):
        for name in os.listdir(os.path.join(out, "images", split)):
            cid = name.rsplit("_", 1)[0]
            assert found.setdefault(cid, split) == split, f"{cid} has frames in both splits"
    return found


class YoloReadBack(ExporterContract):
    fmt = "yolo"
    box_tolerance = 1.0
    options: ClassVar[dict] = {"val_fraction": 0.5}

    def read_back(self, out: str) -> ReadBack:
        data = read_data_yaml(out)
        names = data["names"]
        back = ReadBack()
        for split in ("train", "val"):
            img_dir = os.path.join(out, data[split])           # relative to data.yaml, as Ultralytics does
            lbl_dir = img_dir.replace(os.sep + "images" + os.sep, os.sep + "labels" + os.sep)
            for name in sorted(os.listdir(img_dir)):
                stem = name[:-len(".jpg")]
                cid, frame = stem.rsplit("_", 1)
                path = os.path.join(img_dir, name)
                back.frames[cid, int(frame)] = path
                from PIL import Image
                width, height = Image.open(path).size
                with open(os.path.join(lbl_dir, stem + ".txt")) as f:
                    for line in f.read().splitlines():
                        parts = line.split()
                        assert len(parts) == 5
                        cls, cx, cy, w, h = int(parts[0]), *map(float, parts[1:])
                        assert cls in names and all(0 <= v <= 1 for v in (cx, cy, w, h))
                        box = ((cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height)
                        back.labels.append(Label(cid, int(frame), names[cls], box))
            assert len(os.listdir(lbl_dir)) == len(os.listdir(img_dir))
        return back

    def test_data_yaml_names_every_category_in_order(self, exported: str) -> None:
        data = read_data_yaml(exported)
        assert "path" not in data
        assert data["nc"] == len(data["names"]) and data["names"][0] == "person" and data["names"][1] == "car"
        assert data["train"] == "images/train" and data["val"] == "images/val"



class TestYolo(YoloReadBack):
    def test_categories_option_sets_the_class_ids(self, dataset_dir: str, tmp_path) -> None:
        out = self.export(dataset_dir, str(tmp_path / "out"), categories="car,person")
        assert read_data_yaml(out)["names"] == {0: "car", 1: "person"}
        labels = self.read_back(out).labels
        assert {lab.category for lab in labels} == {"car", "person"}

    def test_split_is_by_clip_and_depends_on_the_clip_id_only(self, dataset_dir: str, exported: str,
                                                              tmp_path) -> None:
        full = splits(exported)
        assert full == {cid: split_of(cid, 0.5) for cid in clip_meta(dataset_dir)}
        one = splits(self.export(dataset_dir, str(tmp_path / "one"), clips=1))
        (cid,) = one
        assert one[cid] == full[cid]

    @pytest.mark.parametrize("fraction, split", [(0.0, "train"), (1.0, "val")])
    def test_val_fraction_extremes(self, dataset_dir: str, tmp_path, fraction: float, split: str) -> None:
        out = self.export(dataset_dir, str(tmp_path / "out"), val_fraction=fraction, clips=2)
        assert set(splits(out).values()) == {split}


def test_split_of_spreads_clips() -> None:
    ids = [f"clip-{i:06d}" for i in range(400)]
    val = sum(split_of(c, 0.2) == "val" for c in ids)
    assert 50 <= val <= 110


def test_boxes_are_clipped_to_the_image_before_normalising() -> None:
    from synthdata.export.yolo import yolo_box

    assert yolo_box((-4.0, 10.0, 20.0, 10.0), 56, 40) == pytest.approx((8 / 56, 15 / 40, 16 / 56, 10 / 40))
    assert yolo_box((50.0, 35.0, 20.0, 20.0), 56, 40) == pytest.approx((53 / 56, 37.5 / 40, 6 / 56, 5 / 40))
    assert yolo_box((-30.0, 0.0, 20.0, 10.0), 56, 40) is None
