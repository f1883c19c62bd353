"""MOTChallenge 2D (MOT17 ground-truth layout), one sequence per clip.

    OUT/seqmaps/MOT17-train.txt          "name" then one clip_id per line: TrackEval's seqmap
    OUT/<clip_id>/seqinfo.ini            [Sequence] name, imDir, frameRate, seqLength, imWidth, imHeight, imExt
    OUT/<clip_id>/img1/000001.jpg        frames, 1-based as MOTChallenge numbers them
    OUT/<clip_id>/gt/gt.txt              frame,id,bb_left,bb_top,bb_width,bb_height,conf,class,visibility

gt.txt follows MOT17: frames are 1-based (our frame f is MOT frame f + 1); ids are our track ids
(1-based, unique within the clip); every box is the *amodal* box (the whole object, also where it
is occluded or outside the image), so fully hidden objects stay in gt with visibility 0, as MOT17
keeps occluded pedestrians. The visibility column is MOT17's, how much of the object is visible with
occlusion and the image border both counted: our `visibility` (visible / amodal pixels inside the
image) times the share of the amodal box inside it (1 - `truncation`); a person half out of the
frame and otherwise unoccluded is 0.5, not 1 (at least 0.00001 while any of it is visible). Box
coordinates are our pixels (top-left origin), written without an offset, which is how MOT
converters (mmtracking mot2coco, ByteTrack) read them. Lines are sorted by frame, then id. --min-visibility drops rows below it (hidden rows have visibility 0).

OUT is a split folder (like MOT17/train/): TrackEval's run_mot_challenge.py reads it with
`--GT_FOLDER OUT --SKIP_SPLIT_FOL True --BENCHMARK MOT17 --SPLIT_TO_EVAL train` (the seqmap is
where TrackEval looks by default, GT_FOLDER/seqmaps/<benchmark>-<split>.txt; the benchmark name
MOT17 turns on its MOT17 preprocessing of distractor classes). There is no OUT/seqmap.txt.

Classes (MOT17 ids): person 1 (pedestrian), a person riding a bicycle or motorcycle 2 (person on
vehicle: TrackEval removes these and the tracker boxes matched to them, as in MOT17), car/van/truck/bus 3 (car: MOT has no larger motor
vehicle class), bicycle 4, motorcycle 5 (motorbike); bag 8 (distractor) with conf 0, so that
evaluators ignore it. A category MOT has no class for is written as 8 with conf 0 as well.
"""
from __future__ import annotations

import os
from typing import Any

from synthdata.export.base import Exporter
from synthdata.export.source import ExportSource, amodal_box
from synthdata.export.writers import JpegWriter

MOT_CLASS = {"person": 1, "car": 3, "van": 3, "truck": 3, "bus": 3, "bicycle": 4, "motorcycle": 5}
PERSON_ON_VEHICLE, DISTRACTOR = 2, 8
IMG_DIR, IMG_EXT = "img1", ".jpg"
SEQMAP = "seqmaps/MOT17-train.txt"


def mot_class(category: str, *, rider: bool = False) -> tuple[int, int]:
    """(MOT class id, conf flag) of one of our categories (`rider`: a person on a vehicle)."""
    if category == "person" and rider:
        return PERSON_ON_VEHICLE, 1
    if category in MOT_CLASS:
        return MOT_CLASS[category], 1
    return DISTRACTOR, 0


def _fmt(v: float) -> str:
    s = f"{float(v):.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def mot_visibility(row: dict[str, Any]) -> float:
    """MOT17's visibility of an object row (module docstring), rounded to 5 decimals."""
    if row.get("w") is None:
        return 0.0
    inside = 1.0 - min(max(float(row.get("truncation") or 0.0), 0.0), 1.0)
    return max(round(float(row["visibility"] or 0.0) * inside, 5), 1e-5)


def gt_line(frame: int, row: dict[str, Any], *, rider: bool = False) -> str:
    """The gt.txt line of an object row at 0-based `frame`."""
    cls, conf = mot_class(row["category"], rider=rider)
    x, y, w, h = amodal_box(row)
    vis = mot_visibility(row)
    return ",".join([str(frame + 1), str(int(row["track_id"])), _fmt(x), _fmt(y), _fmt(w), _fmt(h),
                     str(conf), str(cls), f"{vis:g}"])


def seqinfo(name: str, fps: float, length: int, width: int, height: int) -> str:
    rate = int(fps) if float(fps).is_integer() else fps
    return (f"[Sequence]\nname={name}\nimDir={IMG_DIR}\nframeRate={rate}\nseqLength={length}\n"
            f"imWidth={width}\nimHeight={height}\nimExt={IMG_EXT}\n")


class MotExporter(Exporter):
    name = "mot"
    description = "MOTChallenge 2D (MOT17 gt): seqinfo.ini, img1/*.jpg, gt/gt.txt with amodal boxes"

    def export(self, source: ExportSource, out: str) -> dict[str, Any]:
        counts = {"clips": 0, "images": 0, "gt_lines": 0, "hidden_rows": 0, "rider_rows": 0}
        names = []
        with JpegWriter(quality=source.options.jpeg_quality, workers=source.options.workers) as jpegs:
            for clip in source.clips():
                seq = os.path.join(out, clip.sequence)
                os.makedirs(os.path.join(seq, IMG_DIR))
                os.makedirs(os.path.join(seq, "gt"))
                with open(os.path.join(seq, "seqinfo.ini"), "w", encoding="utf-8") as f:
                    f.write(seqinfo(clip.sequence, clip.fps, clip.num_frames, clip.width, clip.height))
                for f_index, rgb in clip.frames():
                    jpegs.write(rgb, os.path.join(seq, IMG_DIR, f"{f_index + 1:06d}{IMG_EXT}"))
                    counts["images"] += 1
                lines = []
                riders = clip.rider_ids()
                for f_index, rows in enumerate(clip.objects):
                    for row in rows:
                        rider = row["track_id"] in riders
                        lines.append(gt_line(f_index, row, rider=rider))
                        counts["hidden_rows"] += row.get("w") is None
                        counts["rider_rows"] += rider
                with open(os.path.join(seq, "gt", "gt.txt"), "w", encoding="utf-8") as f:
                    f.write("".join(line + "\n" for line in lines))
                counts["gt_lines"] += len(lines)
                counts["clips"] += 1
                names.append(clip.sequence)
        os.makedirs(os.path.join(out, os.path.dirname(SEQMAP)))
        with open(os.path.join(out, SEQMAP), "w", encoding="utf-8") as f:
            f.write("name\n" + "".join(n + "\n" for n in names))
        return counts
