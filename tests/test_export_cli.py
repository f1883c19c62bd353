"""`synthdata export`: exit codes, one-line errors, and what happens to --out."""
from __future__ import annotations

import json
import os
from typing import Any

import pytest

from synthdata.cli import main
from synthdata.export import EXPORTERS
from synthdata.export.mot import MotExporter
from tests.test_export_common import dataset_dir

__all__ = ["dataset_dir"]


def run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(["export", *args])
    out, err = capsys.readouterr()
    return e.value.code, out, err


def assert_one_line_error(code: int, err: str, *words: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for w in words:
        assert w in lines[0]


def test_exports_and_reports_counts(dataset_dir: str, tmp_path: Any, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "mot"
    code, stdout, _ = run(capsys, dataset_dir, "--format", "mot", "--out", str(out), "--categories", "person")
    assert code == 0
    assert "3 clips" in stdout and "30 images" in stdout
    summary = json.loads((out / "export.json").read_text())
    assert summary["format"] == "mot" and summary["categories"] == ["person"]
    assert summary["options"]["categories"] == ["person"] and "val_fraction" not in summary["options"]
    assert summary["dropped"]["category"] == 30          # the car rows
    assert not [p for p in os.listdir(tmp_path) if "partial" in p]


def test_missing_dataset_is_a_one_line_error(tmp_path: Any, capsys: pytest.CaptureFixture) -> None:
    code, _, err = run(capsys, str(tmp_path / "nowhere"), "--format", "coco", "--out", str(tmp_path / "o"))
    assert_one_line_error(code, err, "nowhere")
    (tmp_path / "empty").mkdir()
    code, _, err = run(capsys, str(tmp_path / "empty"), "--format", "coco", "--out", str(tmp_path / "o"))
    assert_one_line_error(code, err, "not a synthdata dataset")
    assert not (tmp_path / "o").exists()


def test_unknown_format_lists_formats(dataset_dir: str, tmp_path: Any, capsys: pytest.CaptureFixture) -> None:
    code, _, err = run(capsys, dataset_dir, "--format", "kitti", "--out", str(tmp_path / "o"))
    assert_one_line_error(code, err, "kitti", *EXPORTERS)


def test_non_empty_out_is_refused_unless_overwriting_an_export(dataset_dir: str, tmp_path: Any,
                                                                capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert run(capsys, dataset_dir, "--format", "yolo", "--out", str(out), "--clips", "1")[0] == 0
    (out / "stale.txt").write_text("from before")
    code, _, err = run(capsys, dataset_dir, "--format", "coco", "--out", str(out))
    assert_one_line_error(code, err, "--overwrite")
    assert (out / "data.yaml").exists() and (out / "stale.txt").exists()

    code, _, _ = run(capsys, dataset_dir, "--format", "coco", "--out", str(out), "--overwrite", "--clips", "1")
    assert code == 0
    assert sorted(os.listdir(out)) == ["annotations.json", "export.json", "images"]

    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    code, _, err = run(capsys, dataset_dir, "--format", "coco", "--out", str(other), "--overwrite")
    assert_one_line_error(code, err, "export.json")
    assert os.listdir(other) == ["notes.txt"]


def test_out_inside_the_dataset_is_refused(dataset_dir: str, capsys: pytest.CaptureFixture) -> None:
    code, _, err = run(capsys, dataset_dir, "--format", "coco", "--out", os.path.join(dataset_dir, "coco"))
    assert_one_line_error(code, err, "outside the dataset")
    assert not os.path.exists(os.path.join(dataset_dir, "coco"))


def test_failed_export_leaves_the_earlier_one_intact(dataset_dir: str, tmp_path: Any,
                                                     capsys: pytest.CaptureFixture,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    assert run(capsys, dataset_dir, "--format", "mot", "--out", str(out), "--clips", "1")[0] == 0
    before = sorted(os.listdir(out))

    def broken(self: Any, source: Any, work: str) -> dict:
        with open(os.path.join(work, "half.txt"), "w") as f:
            f.write("half")
        raise OSError("disk full")

    monkeypatch.setattr(MotExporter, "export", broken)
    code, _, err = run(capsys, dataset_dir, "--format", "mot", "--out", str(out), "--overwrite")
    assert code == 1 and "disk full" in err
    assert sorted(os.listdir(out)) == before
    assert sorted(os.listdir(tmp_path)) == ["out"]      # no staging folder left behind


def test_bad_option_values(dataset_dir: str, tmp_path: Any, capsys: pytest.CaptureFixture) -> None:
    code, _, err = run(capsys, dataset_dir, "--format", "mot", "--out", str(tmp_path / "o"), "--val-fraction", "0.1")
    assert_one_line_error(code, err, "--val-fraction", "mot")
    code, _, err = run(capsys, dataset_dir, "--format", "yolo", "--out", str(tmp_path / "o"),
                       "--categories", "person,unicorn")
    assert_one_line_error(code, err, "unicorn", "person, car")
    assert not (tmp_path / "o").exists()
