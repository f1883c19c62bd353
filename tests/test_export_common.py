"""Shared harness for the exporters, plus the registry and option checks.

Every format's test class subclasses ExporterContract and implements `read_back` with the
consumer's own reader (pycocotools, a MOTChallenge-style gt.txt parser, Ultralytics' label
format). The contract then checks what a user of that format would notice: every frame is there
and looks like the video, every label matches the objects table (the box the format promises,
the right category, consistent track ids), and the filters do what they say.

The dataset is made with tests/fakes.py (labels derived from the very pixels); 56x40 so the car
drives out of the image on the left (truncated: visible box != amodal box), is partly hidden
behind the person in frames 3-5, and is hidden in the last frame.
"""
from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pytest

from synthdata.errors import BadInput
from synthdata.export import EXPORTERS, export_dataset
from synthdata.export.base import Exporter

W, H, FRAMES, CLIPS = 56, 40, 10, 3


def make_dataset(path: str) -> str:
    from tests.fakes import write_fake_dataset

    write_fake_dataset(path, clips=CLIPS, clips_per_shard=2, num_frames=FRAMES, width=W, height=H)
    return path


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return make_dataset(str(tmp_path_factory.mktemp("export") / "ds"))


def table_rows(dataset_dir: str) -> list[dict[str, Any]]:
    """Object rows straight from the Parquet files (not through the exporters' code)."""
    import pyarrow.dataset as pads

    return pads.dataset(os.path.join(dataset_dir, "tables", "objects"), format="parquet").to_table().to_pylist()


def clip_meta(dataset_dir: str) -> dict[str, dict[str, Any]]:
    import pyarrow.dataset as pads

    rows = pads.dataset(os.path.join(dataset_dir, "tables", "clips"), format="parquet").to_table().to_pylist()
    return {r["clip_id"]: r for r in rows}


@dataclass
class Label:
    clip_id: str
    frame: int                       # 0-based, whatever the format numbers its frames from
    category: str
    box: tuple[float, float, float, float]   # x, y, w, h pixels, top-left origin
    track: Any = None                # the format's track/instance id, None if it has none


@dataclass
class ReadBack:
    frames: dict[tuple[str, int], str] = field(default_factory=dict)   # (clip_id, frame) -> image file
    labels: list[Label] = field(default_factory=list)


class ExporterContract:
    """Subclass with `fmt` and `read_back`; set `box = "amodal"` and `keeps_hidden` as the format does."""

    fmt: str = ""
    box: str = "visible"
    keeps_hidden: bool = False
    box_tolerance: float = 0.01
    options: ClassVar[dict[str, Any]] = {}

    def read_back(self, out: str) -> ReadBack:
        raise NotImplementedError

    def category_label(self, category: str) -> str:
        """How the format names one of our categories in a read-back Label (MOT: its class id)."""
        return category

    def export(self, dataset_dir: str, out: str, **opts: Any) -> str:
        summary = export_dataset(dataset_dir, self.fmt, out, **{**self.options, **opts})
        assert summary["format"] == self.fmt and os.path.isfile(os.path.join(out, "export.json"))
        return out

    @pytest.fixture(scope="class")
    @classmethod
    def exported(cls, dataset_dir: str, tmp_path_factory: pytest.TempPathFactory) -> str:
        return cls().export(dataset_dir, str(tmp_path_factory.mktemp(cls.fmt) / "out"))

    def expected(self, dataset_dir: str, *, categories: tuple[str, ...] | None = None,
                 min_visibility: float = 0.0, clips: int | None = None) -> list[Label]:
        keep = sorted(clip_meta(dataset_dir))[:clips] if clips else None
        out = []
        for r in table_rows(dataset_dir):
            if categories is not None and r["category"] not in categories:
                continue
            if r["visibility"] < min_visibility or (keep is not None and r["clip_id"] not in keep):
                continue
            if self.box == "amodal":
                box = (r["ax"], r["ay"], r["aw"], r["ah"])
            elif r["w"] is None:
                if self.keeps_hidden:
                    raise AssertionError("a visible-box format cannot keep hidden objects")
                continue
            else:
                box = (r["x"], r["y"], r["w"], r["h"])
            out.append(Label(r["clip_id"], r["frame"], self.category_label(r["category"]), box, r["track_id"]))
        return out

    def assert_labels_match(self, got: list[Label], want: list[Label]) -> None:
        def key(lab: Label) -> tuple:
            return lab.clip_id, lab.frame, lab.category

        assert want, "the expectation is empty: nothing would be checked"
        groups: dict[tuple, list[Label]] = defaultdict(list)
        for lab in got:
            groups[key(lab)].append(lab)
        assert sorted(map(key, got)) == sorted(map(key, want)), "exported objects differ from the table's"
        tracks: dict[tuple[str, Any], Any] = {}
        for w in want:
            cands = groups[key(w)]
            best = min(cands, key=lambda g: max(abs(a - b) for a, b in zip(g.box, w.box)))
            err = max(abs(a - b) for a, b in zip(best.box, w.box))
            assert err <= self.box_tolerance, f"{key(w)}: box {best.box}, table says {w.box}"
            cands.remove(best)
            if best.track is not None:   # one format id per (clip, our track), and vice versa
                assert tracks.setdefault((w.clip_id, w.track), best.track) == best.track
        ids = {(clip_id, fmt_id) for (clip_id, _), fmt_id in tracks.items()}
        assert len(ids) == len(tracks), "two tracks of a clip share an id"

    # the battery --------------------------------------------------------------------------------
    def test_every_frame_is_exported_and_looks_like_the_video(self, dataset_dir: str, exported: str) -> None:
        from PIL import Image

        from synthdata.io.reader import open_dataset

        back = self.read_back(exported)
        meta = clip_meta(dataset_dir)
        assert sorted(back.frames) == sorted((c, f) for c, m in meta.items() for f in range(m["num_frames"]))
        ds = open_dataset(dataset_dir)
        for cid, m in meta.items():
            video = ds.read_clip(cid).astype(np.int16)
            images = [np.asarray(Image.open(back.frames[cid, f]).convert("RGB")).astype(np.int16)
                      for f in range(len(video))]
            for f, img in enumerate(images):
                assert img.shape == (m["height"], m["width"], 3)
                diff = np.abs(img - video[f]).mean()
                assert diff < 4.0, f"{cid} frame {f}: JPEG differs from the video by {diff:.1f} on average"
            # frames are in order: where two frames differ clearly, each image is closer to its own
            f, g = max(((f, g) for f in range(len(video)) for g in range(f)),
                       key=lambda p: np.abs(video[p[0]] - video[p[1]]).mean())
            if np.abs(video[f] - video[g]).mean() > 4.0:
                assert np.abs(images[f] - video[f]).mean() < np.abs(images[f] - video[g]).mean()

    def test_labels_match_the_objects_table(self, dataset_dir: str, exported: str) -> None:
        self.assert_labels_match(self.read_back(exported).labels, self.expected(dataset_dir))

    def test_category_and_visibility_filters(self, dataset_dir: str, tmp_path: Any) -> None:
        out = self.export(dataset_dir, str(tmp_path / "out"), categories="person", min_visibility=0.9)
        want = self.expected(dataset_dir, categories=("person",), min_visibility=0.9)
        assert want and len(want) < len(self.expected(dataset_dir))
        self.assert_labels_match(self.read_back(out).labels, want)

    def test_min_visibility_drops_occluded_objects(self, dataset_dir: str, tmp_path: Any) -> None:
        out = self.export(dataset_dir, str(tmp_path / "out"), min_visibility=0.95)
        want = self.expected(dataset_dir, min_visibility=0.95)
        assert want and len(want) < len(self.expected(dataset_dir, min_visibility=0.01)), \
            "the test data should hold partly occluded objects"
        self.assert_labels_match(self.read_back(out).labels, want)

    def test_clips_option_exports_the_first_clips(self, dataset_dir: str, tmp_path: Any) -> None:
        back = self.read_back(self.export(dataset_dir, str(tmp_path / "out"), clips=1))
        first = min(clip_meta(dataset_dir))
        assert {c for c, _ in back.frames} == {first}
        self.assert_labels_match(back.labels, self.expected(dataset_dir, clips=1))

    def test_same_dataset_gives_the_same_label_files(self, dataset_dir: str, exported: str, tmp_path: Any) -> None:
        again = self.export(dataset_dir, str(tmp_path / "again"))

        def files(root: str) -> list[str]:
            return sorted(os.path.relpath(os.path.join(d, n), root) for d, _, names in os.walk(root) for n in names)

        assert files(exported) == files(again)
        labels = [rel for rel in files(exported) if not rel.endswith((".jpg", "export.json"))]
        assert labels, "the export holds no label files"
        for rel in labels:
            with open(os.path.join(exported, rel), "rb") as fa, open(os.path.join(again, rel), "rb") as fb:
                assert fa.read() == fb.read(), f"{rel} differs between runs"


# the registry and options -------------------------------------------------------------------------

def test_registry_names_each_format_once() -> None:
    assert list(EXPORTERS) == ["coco-video", "coco", "mot", "yolo", "flow", "mtmc", "reid"]
    modules = {cls.__module__ for cls in EXPORTERS.values()}
    assert len(modules) == len(EXPORTERS)
    for name, cls in EXPORTERS.items():
        assert issubclass(cls, Exporter) and cls.name == name and cls.description


def test_unknown_format_lists_the_formats(dataset_dir: str, tmp_path: Any) -> None:
    with pytest.raises(BadInput) as e:
        export_dataset(dataset_dir, "pascal-voc", str(tmp_path / "out"))
    assert "\n" not in str(e.value)
    for name in EXPORTERS:
        assert name in str(e.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("opts, words", [
    ({"min_visibility": 1.5}, "--min-visibility"),
    ({"clips": 0}, "--clips"),
    ({"categories": "person,dog"}, "dog"),
    ({"categories": "person,person"}, "twice"),
    ({"val_fraction": 0.3}, "--val-fraction"),       # a yolo option given to coco
    ({"frames_per_clip": 3}, "frames_per_clip"),
])
def test_bad_options_are_one_line_errors(dataset_dir: str, tmp_path: Any, opts: dict, words: str) -> None:
    with pytest.raises(BadInput) as e:
        export_dataset(dataset_dir, "coco", str(tmp_path / "out"), **opts)
    assert words in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "out").exists()
