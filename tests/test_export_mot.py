"""MOTChallenge export read back the way MOT evaluators (TrackEval, py-motmetrics) read it."""
from __future__ import annotations

import configparser
import contextlib
import io
import os

import numpy as np
import pytest

from tests.test_export_common import ExporterContract, Label, ReadBack, clip_meta, dataset_dir, table_rows

__all__ = ["dataset_dir"]

MOT_CLASSES = range(1, 14)            # pedestrian .. crowd (MOT17/MOT20)
# our category -> (MOT17 class: 1 pedestrian, 3 car, 4 bicycle, 5 motorbike, 8 distractor; conf flag)
MOT_CLASS = {"person": (1, 1), "car": (3, 1), "van": (3, 1), "truck": (3, 1), "bus": (3, 1),
             "bicycle": (4, 1), "motorcycle": (5, 1), "bag": (8, 0)}


def read_seqinfo(seq: str) -> dict[str, str]:
    ini = configparser.ConfigParser()
    assert ini.read(os.path.join(seq, "seqinfo.ini"))
    return dict(ini["Sequence"])


def read_gt(seq: str) -> np.ndarray:
    """gt.txt as TrackEval loads it: comma-separated numbers, 9 per line for MOT17 gt."""
    path = os.path.join(seq, "gt", "gt.txt")
    with open(path) as f:
        lines = [ln.strip() for ln in f if ln.strip()]
    rows = [ln.split(",") for ln in lines]
    assert all(len(r) == 9 for r in rows), "MOT17 gt lines have 9 columns"
    return np.array(rows, dtype=float).reshape(-1, 9)


class MotReadBack(ExporterContract):
    fmt = "mot"
    box = "amodal"
    keeps_hidden = True

    def category_label(self, category: str) -> str:
        cls, conf = MOT_CLASS[category]
        return f"class {cls} conf {conf}"

    def read_back(self, out: str) -> ReadBack:
        back = ReadBack()
        assert not os.path.exists(os.path.join(out, "seqmap.txt"))
        with open(os.path.join(out, "seqmaps", "MOT17-train.txt")) as f:   # where TrackEval looks
            seqs = f.read().split()
        assert seqs[0] == "name"
        for name in seqs[1:]:
            seq = os.path.join(out, name)
            info = read_seqinfo(seq)
            n = int(info["seqlength"])
            for f in range(1, n + 1):
                path = os.path.join(seq, info["imdir"], f"{f:06d}{info['imext']}")
                assert os.path.isfile(path)
                back.frames[name, f - 1] = path
            assert len(os.listdir(os.path.join(seq, info["imdir"]))) == n
            for frame, tid, x, y, w, h, conf, cls, vis in read_gt(seq):
                assert frame == int(frame) and 1 <= frame <= n
                assert cls in MOT_CLASSES and conf in (0, 1) and 0 <= vis <= 1
                back.labels.append(Label(name, int(frame) - 1, f"class {int(cls)} conf {int(conf)}",
                                         (x, y, w, h), int(tid)))
        return back

    def test_seqinfo_matches_the_clips(self, dataset_dir: str, exported: str) -> None:
        meta = clip_meta(dataset_dir)
        for cid, m in meta.items():
            info = read_seqinfo(os.path.join(exported, cid))
            assert info["name"] == cid and info["imdir"] == "img1" and info["imext"] == ".jpg"
            assert int(info["seqlength"]) == m["num_frames"]
            assert (int(info["imwidth"]), int(info["imheight"])) == (m["width"], m["height"])
            assert float(info["framerate"]) == m["fps"]

    def test_ids_unique_per_frame_and_hidden_objects_kept_with_visibility_zero(
            self, dataset_dir: str, exported: str) -> None:
        rows = table_rows(dataset_dir)
        hidden = {(r["clip_id"], r["frame"] + 1, r["track_id"]) for r in rows if r["w"] is None}
        found = set()
        for cid in clip_meta(dataset_dir):
            gt = read_gt(os.path.join(exported, cid))
            pairs = [(int(f), int(i)) for f, i in gt[:, :2]]
            assert len(pairs) == len(set(pairs)), "an id appears twice in one frame"
            assert (gt[:, 1] >= 1).all()
            for f, tid, *_, conf, cls, vis in gt:
                if (cid, int(f), int(tid)) in hidden:
                    assert vis == 0
                    found.add((cid, int(f), int(tid)))
                else:
                    assert vis > 0
        assert found == hidden



class TestMot(MotReadBack):
    def test_boxes_are_amodal_past_the_image_edge(self, dataset_dir: str, exported: str) -> None:
        truncated = [r for r in table_rows(dataset_dir) if r["w"] is not None and r["ax"] < 0]
        assert truncated, "the test data should hold a car leaving the image"
        r = truncated[0]
        gt = read_gt(os.path.join(exported, r["clip_id"]))
        (line,) = gt[(gt[:, 0] == r["frame"] + 1) & (gt[:, 1] == r["track_id"])]
        assert line[2] < 0 and np.allclose(line[2:6], [r["ax"], r["ay"], r["aw"], r["ah"]], atol=0.01)
        assert line[7] == 3 and line[6] == 1         # a car, considered
        assert any(r["w"] is None for r in table_rows(dataset_dir)), "the test data should hold hidden rows"


    def test_visibility_counts_the_image_border_as_mot17_does(self, dataset_dir: str, exported: str) -> None:
        """MOT17's visibility counts occlusion and the image border: ours (visible / amodal pixels
        in the image) times the share of the amodal box inside the image."""
        rows = {(r["clip_id"], r["frame"] + 1, r["track_id"]): r for r in table_rows(dataset_dir)}
        cut = 0
        for cid in clip_meta(dataset_dir):
            for f, tid, *_, vis in read_gt(os.path.join(exported, cid)):
                r = rows[cid, int(f), int(tid)]
                if r["w"] is None:
                    continue
                want = r["visibility"] * (1.0 - r["truncation"])
                assert vis == pytest.approx(max(want, 1e-5), abs=1e-5)
                if r["truncation"] > 0.05:
                    assert vis < r["visibility"] - 0.04       # the border takes its share
                    cut += 1
        assert cut, "the test data should hold an object the image border cuts"


def test_riders_are_class_2_person_on_vehicle(tmp_path) -> None:
    from synthdata.export import export_dataset
    from tests.fakes import CAR, PERSON, write_fake_dataset

    ds = str(tmp_path / "ds")
    write_fake_dataset(ds, clips=1, clips_per_shard=1, rider=True)
    summary = export_dataset(ds, "mot", str(tmp_path / "out"))
    gt = read_gt(str(tmp_path / "out" / "fake-000000"))
    classes = {int(tid): {int(c) for c in gt[gt[:, 1] == tid, 7]} for tid in set(gt[:, 1])}
    assert classes == {PERSON: {2}, CAR: {3}}
    assert summary["counts"]["rider_rows"] == int((gt[:, 1] == PERSON).sum()) > 0


def test_trackeval_reads_the_export_and_scores_the_ground_truth_perfectly(exported_plain, tmp_path) -> None:
    """TrackEval (if installed: its wheel depends on non-headless opencv-python, so it is not a
    test dependency) evaluates the ground truth itself as a tracker: HOTA and MOTA 1."""
    trackeval = pytest.importorskip("trackeval")
    out = exported_plain
    with open(os.path.join(out, "seqmaps", "MOT17-train.txt")) as f:
        seqs = f.read().split()[1:]
    data = tmp_path / "trackers" / "gt_itself" / "data"
    data.mkdir(parents=True)
    for seq in seqs:
        gt = read_gt(os.path.join(out, seq))
        keep = (gt[:, 6] == 1) & (gt[:, 7] == 1)          # the pedestrians TrackEval evaluates
        lines = [f"{int(r[0])},{int(r[1])},{r[2]:.2f},{r[3]:.2f},{r[4]:.2f},{r[5]:.2f},1,-1,-1,-1" for r in gt[keep]]
        (data / f"{seq}.txt").write_text("".join(ln + "\n" for ln in lines))
    config = {**trackeval.Evaluator.get_default_eval_config(), "USE_PARALLEL": False, "PRINT_RESULTS": False,
              "PRINT_CONFIG": False, "TIME_PROGRESS": False, "OUTPUT_SUMMARY": False, "OUTPUT_DETAILED": False,
              "PLOT_CURVES": False, "DISPLAY_LESS_PROGRESS": True}
    dataset = {**trackeval.datasets.MotChallenge2DBox.get_default_dataset_config(), "GT_FOLDER": out,
               "SKIP_SPLIT_FOL": True, "BENCHMARK": "MOT17", "SPLIT_TO_EVAL": "train", "PRINT_CONFIG": False,
               "TRACKERS_FOLDER": str(tmp_path / "trackers"), "OUTPUT_FOLDER": str(tmp_path / "results")}
    with contextlib.redirect_stdout(io.StringIO()):
        results, _ = trackeval.Evaluator(config).evaluate(
            [trackeval.datasets.MotChallenge2DBox(dataset)],
            [trackeval.metrics.HOTA(), trackeval.metrics.CLEAR({"PRINT_CONFIG": False})])
    combined = results["MotChallenge2DBox"]["gt_itself"]["COMBINED_SEQ"]["pedestrian"]
    assert combined["CLEAR"]["CLR_TP"] > 0
    assert combined["CLEAR"]["MOTA"] == pytest.approx(1.0) and combined["HOTA"]["HOTA"].mean() == pytest.approx(1.0)


@pytest.fixture(scope="module")
def exported_plain(dataset_dir: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    from synthdata.export import export_dataset

    out = str(tmp_path_factory.mktemp("mot-plain") / "out")
    export_dataset(dataset_dir, "mot", out)
    return out
