"""PyTorch datasets: the right boxes for the right frame, filters, workers, windows."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from synthdata.datasets import ClipDataset, FrameDataset, collate
from synthdata.errors import DatasetError
from synthdata.io.reader import open_dataset
from tests.fakes import fake_frames, fake_objects, write_fake_dataset

NF = 6   # frames per fake clip


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("ds"))
    write_fake_dataset(path, num_frames=NF)
    return path


def truth(clip: int, frame: int) -> list[dict]:
    """The fake clip's object rows for one frame, straight from its instance buffer."""
    _, ids = fake_frames(clip, num_frames=NF)
    return [r for r in fake_objects(clip, f"fake-{clip:06d}", ids) if r["frame"] == frame]


def xyxy(rows: list[dict]) -> list[list[float]]:
    return [[r["x"], r["y"], r["x"] + r["w"], r["y"] + r["h"]] for r in rows if r["x"] is not None]


def test_reader_decodes_each_clip_in_frame_order(out):
    ds = open_dataset(out)
    assert ds.clip_ids() == [f"fake-{i:06d}" for i in range(4)]
    decoded = ds.read_clip("fake-000002").astype(np.int32)
    frames, _ = fake_frames(2, num_frames=NF)
    dist = np.abs(decoded[:, None] - frames[None].astype(np.int32)).mean(axis=(2, 3, 4))
    assert (dist.argmin(axis=1) == np.arange(NF)).all()
    assert np.array_equal(ds.read_frames("fake-000002", 2, 5), ds.read_clip("fake-000002")[2:5])
    rows = ds.objects_for("fake-000003").to_pylist()
    assert len(rows) == 2 * NF and {r["clip_id"] for r in rows} == {"fake-000003"}


def test_frame_dataset_with_workers_gives_the_boxes_of_each_frame(out):
    ds = FrameDataset(out)
    assert len(ds) == 4 * NF and ds.categories == ["car", "person"]
    loader = DataLoader(ds, batch_size=5, num_workers=2, collate_fn=collate)
    seen = 0
    for images, targets in loader:
        assert images.shape[1:] == (3, 48, 64) and images.dtype == torch.uint8
        for image, t in zip(images, targets):
            clip = int(t["clip_id"].split("-")[1])
            rows = truth(clip, t["frame"])
            assert t["boxes"].tolist() == xyxy(rows)
            labels = [2 if r["category"] == "person" else 1 for r in rows if r["x"] is not None]
            assert t["labels"].tolist() == labels
            assert t["keypoints"].shape == (len(t["boxes"]), 17, 3)
            frames, _ = fake_frames(clip, num_frames=NF)
            dist = np.abs(image.permute(1, 2, 0).numpy().astype(int)[None] - frames).mean(axis=(1, 2, 3))
            assert dist.argmin() == t["frame"]   # the image is the frame the target describes
            seen += 1
    assert seen == len(ds)


def test_hidden_objects_and_filters(out):
    last = FrameDataset(out)[NF - 1][1]          # clip 0's last frame: the car is hidden
    assert last["track_ids"].tolist() == [1]
    occluded = truth(0, 4)[1]                    # the person covers part of the car in frame 4
    assert 0.5 < occluded["visibility"] < 0.95
    strict = FrameDataset(out, min_visibility=0.95)
    assert strict[4][1]["track_ids"].tolist() == [1] and strict[3][1]["track_ids"].tolist() == [1, 2]
    tall = FrameDataset(out, min_box_height=20)
    assert all(t["labels"].tolist() == [2] for _, t in (tall[i] for i in range(NF)))   # person only
    people = FrameDataset(out, categories=["person"])
    assert people[0][1]["labels"].tolist() == [1] and people.categories == ["person"]
    with pytest.raises(DatasetError, match="'bus'"):
        FrameDataset(out, categories=["bus"])


def test_masks_on_request_match_the_boxes(out):
    ds = FrameDataset(out, with_masks=True, image_dtype=torch.float32)
    image, t = ds[4]
    assert image.dtype == torch.float32 and 0.0 <= float(image.min()) and float(image.max()) <= 1.0
    assert t["masks"].shape == (2, 48, 64)
    for box, mask in zip(t["boxes"].tolist(), t["masks"]):
        ys, xs = np.nonzero(mask.numpy())
        assert box == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
    none_kept = FrameDataset(out, with_masks=True, min_visibility=1.01)[0][1]
    assert none_kept["masks"].shape == (0, 48, 64) and none_kept["boxes"].shape == (0, 4)


def test_clip_dataset_windows(out):
    ds = ClipDataset(out, window=4, stride=2)
    assert len(ds) == 4 * 2                      # starts 0 and 2 in each clip of 6 frames
    frames, targets = ds[3]                      # clip 1, frames 2..5
    assert frames.shape == (4, 3, 48, 64) and [t["frame"] for t in targets] == [2, 3, 4, 5]
    assert all(t["clip_id"] == "fake-000001" for t in targets)
    assert targets[0]["boxes"].tolist() == xyxy(truth(1, 2))
    assert np.array_equal(frames.permute(0, 2, 3, 1).numpy(), open_dataset(out).read_clip("fake-000001")[2:6])


def test_asking_for_masks_a_dataset_does_not_have_is_one_clear_error(tmp_path):
    write_fake_dataset(str(tmp_path), clips=1, clips_per_shard=1, masks=False)
    assert FrameDataset(str(tmp_path))[0][1]["boxes"].shape == (2, 4)
    with pytest.raises(DatasetError, match="output.masks=false"):
        FrameDataset(str(tmp_path), with_masks=True)[0]
