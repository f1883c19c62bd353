"""COCO and CocoVID exports read back with pycocotools."""
from __future__ import annotations

import json
import os
from collections import defaultdict

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from synthdata.io import rle
from tests.test_export_common import ExporterContract, Label, ReadBack, clip_meta, dataset_dir, table_rows

__all__ = ["dataset_dir"]   # the fixture, used by the contract's tests

# COCO's person_keypoints_*.json skeleton, 1-based joint indices
COCO_SKELETON_1BASED = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8],
                        [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7]]


def load(out: str) -> COCO:
    return COCO(os.path.join(out, "annotations.json"))


class CocoReadBack(ExporterContract):
    def read_back(self, out: str) -> ReadBack:
        coco = load(out)
        back = ReadBack()
        for img in coco.imgs.values():
            clip_id, name = img["file_name"].split("/")
            back.frames[clip_id, int(name.split(".")[0])] = os.path.join(out, "images", img["file_name"])
        for ann in coco.anns.values():
            img = coco.imgs[ann["image_id"]]
            clip_id, name = img["file_name"].split("/")
            back.labels.append(Label(clip_id, int(name.split(".")[0]), coco.cats[ann["category_id"]]["name"],
                                     tuple(ann["bbox"]), ann.get("instance_id")))
        return back

    def rows_by_image(self, out: str, dataset_dir: str) -> tuple[COCO, dict[int, list[dict]]]:
        coco = load(out)
        table = defaultdict(list)
        for r in table_rows(dataset_dir):
            table[r["clip_id"], r["frame"]].append(r)
        by_image = {}
        for img in coco.imgs.values():
            clip_id, name = img["file_name"].split("/")
            by_image[img["id"]] = table[clip_id, int(name.split(".")[0])]
        return coco, by_image

    def row_of(self, coco: COCO, ann: dict, rows: list[dict]) -> dict:
        """The table row an annotation came from: same category and box, and the same mask."""
        name = coco.cats[ann["category_id"]]["name"]
        got = coco.annToMask(ann)
        for r in rows:
            if r["category"] == name and r["w"] is not None and [r["x"], r["y"], r["w"], r["h"]] == ann["bbox"] \
                    and np.array_equal(got, rle.decode(r["mask"])):
                return r
        raise AssertionError(f"annotation {ann['id']}: no {name} row with box {ann['bbox']} and its mask")

    def test_masks_decode_to_the_tables_masks(self, dataset_dir: str, exported: str) -> None:
        coco, by_image = self.rows_by_image(exported, dataset_dir)
        assert coco.anns
        used = set()
        for ann in coco.anns.values():
            img = coco.imgs[ann["image_id"]]
            row = self.row_of(coco, ann, by_image[ann["image_id"]])
            assert coco.annToMask(ann).shape == (img["height"], img["width"])
            assert ann["area"] == int(coco.annToMask(ann).sum()) == row["visible_pixels"]
            assert list(mask_utils.toBbox(coco.annToRLE(ann))) == ann["bbox"]
            assert ann["iscrowd"] == 0 and abs(ann["visibility"] - row["visibility"]) < 1e-3
            used.add((row["clip_id"], row["frame"], row["track_id"]))
        assert len(used) == len(coco.anns)

    def test_person_keypoints_follow_coco(self, dataset_dir: str, exported: str) -> None:
        coco, by_image = self.rows_by_image(exported, dataset_dir)
        (person,) = [c for c in coco.dataset["categories"] if c["name"] == "person"]
        assert len(person["keypoints"]) == 17 and person["keypoints"][0] == "nose"
        assert person["skeleton"] == COCO_SKELETON_1BASED
        anns = coco.loadAnns(coco.getAnnIds(catIds=[person["id"]]))
        assert anns
        for ann in anns:
            row = self.row_of(coco, ann, by_image[ann["image_id"]])
            assert np.allclose(ann["keypoints"], row["keypoints"], atol=1e-3)
            assert ann["num_keypoints"] == sum(v > 0 for v in row["keypoints"][2::3])
        others = coco.loadAnns(coco.getAnnIds(catIds=[c for c in coco.cats if c != person["id"]]))
        assert others and all("keypoints" not in a and a["num_keypoints"] == 0 for a in others)

    def test_keypoint_evaluation_runs_with_default_category_ids(self, exported: str) -> None:
        import contextlib
        import io

        from pycocotools.cocoeval import COCOeval

        gt = load(exported)
        person = gt.getCatIds(catNms=["person"])[0]
        results = [{"image_id": a["image_id"], "category_id": person, "keypoints": a["keypoints"], "score": 1.0}
                   for a in gt.loadAnns(gt.getAnnIds(catIds=[person])) if a["num_keypoints"]]
        assert results
        with contextlib.redirect_stdout(io.StringIO()):
            ev = COCOeval(gt, gt.loadRes(results), "keypoints")   # params.catIds: every category
            assert len(ev.params.catIds) == len(gt.cats) > 1
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        assert ev.stats[0] > 0.99          # the ground truth's own keypoints score AP 1

    def test_hidden_objects_are_not_annotated(self, dataset_dir: str, exported: str) -> None:
        hidden = [r for r in table_rows(dataset_dir) if r["w"] is None]
        coco = load(exported)
        assert len(coco.anns) == len(table_rows(dataset_dir)) - len(hidden)


class TestCoco(CocoReadBack):
    fmt = "coco"

    def test_image_ids_are_unique_and_name_their_frame(self, dataset_dir: str, exported: str) -> None:
        coco = load(exported)
        assert len(coco.imgs) == sum(m["num_frames"] for m in clip_meta(dataset_dir).values())
        for img in coco.imgs.values():
            assert img["file_name"] == f"{img['clip_id']}/{img['frame']:06d}.jpg"


class CocoVideoReadBack(CocoReadBack):
    fmt = "coco-video"

    def test_videos_frames_and_instances(self, dataset_dir: str, exported: str) -> None:
        coco = load(exported)
        meta = clip_meta(dataset_dir)
        videos = {v["id"]: v for v in coco.dataset["videos"]}
        assert sorted(v["name"] for v in videos.values()) == sorted(meta)
        frames = defaultdict(list)
        for img in coco.imgs.values():
            frames[img["video_id"]].append(img["frame_id"])
            assert img["file_name"] == f"{videos[img['video_id']]['name']}/{img['frame_id']:06d}.jpg"
        for vid, v in videos.items():
            m = meta[v["name"]]
            assert sorted(frames[vid]) == list(range(m["num_frames"])) == list(range(v["num_frames"]))
            assert (v["width"], v["height"], v["fps"]) == (m["width"], m["height"], m["fps"])
        tracks = {t["id"]: t for t in coco.dataset["tracks"]}
        seen: dict[int, set] = defaultdict(set)
        for ann in coco.anns.values():
            img = coco.imgs[ann["image_id"]]
            assert ann["video_id"] == img["video_id"] and ann["track_id"] == ann["instance_id"]
            t = tracks[ann["instance_id"]]
            assert (t["video_id"], t["category_id"]) == (ann["video_id"], ann["category_id"])
            seen[ann["instance_id"]].add(img["video_id"])
        assert set(seen) == set(tracks) and all(len(v) == 1 for v in seen.values())
        visible = {(r["clip_id"], r["track_id"]) for r in table_rows(dataset_dir) if r["w"] is not None}
        assert len(tracks) == len(visible)


class TestCocoVideo(CocoVideoReadBack):
    def test_hidden_frames_are_in_the_test_data(self, dataset_dir: str) -> None:
        assert any(r["w"] is None for r in table_rows(dataset_dir))

    def test_file_is_plain_json(self, exported: str) -> None:
        with open(os.path.join(exported, "annotations.json")) as f:
            doc = json.load(f)
        assert list(doc) == ["info", "licenses", "categories", "videos", "images", "annotations", "tracks"]

