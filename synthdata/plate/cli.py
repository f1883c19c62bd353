"""`synthdata plate init FOOTAGE --out PLATE_DIR` and `synthdata plate calibrate PLATE_DIR`."""
from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np
import yaml

from synthdata.errors import BadInput


@click.group("plate")
def plate_command() -> None:
    """Your own camera: a background plate from footage, its calibration (see README.md)."""


@plate_command.command("init")
@click.argument("footage", type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="plate folder to write")
@click.option("--frames", default=60, show_default=True, type=click.IntRange(1, 1000),
              help="frames sampled evenly over the footage")
@click.option("--method", default="auto", show_default=True,
              type=click.Choice(["auto", "median", "mog2", "quiet_median"]),
              help="how moving things are removed (auto: the cleanest on this footage)")
@click.option("--credit", default=None, help="credit line for images derived from the footage")
def init_command(footage: Path, out: Path, frames: int, method: str, credit: str | None) -> None:
    """Build a clean background plate (PNG), plate.yaml and preview.png from FOOTAGE (a video
    file, a folder of frames or one still)."""
    from synthdata.plate.extract import extract_plate, statistics
    from synthdata.plate.footage import file_sha256, read_footage
    from synthdata.plate.images import preview, write_png
    from synthdata.plate.store import PlateInfo, load_plate

    if out.exists() and not out.is_dir():
        raise BadInput(f"{out}: exists and is not a folder; give a folder for --out")
    fo = read_footage(footage, frames)
    plate, used, scores = extract_plate(fo.frames, method)
    stats = statistics(plate, fo.frames, used)
    out.mkdir(parents=True, exist_ok=True)
    write_png(out / "plate.png", plate)
    write_png(out / "preview.png", preview(fo.frames, plate))
    old = load_plate(out).calibration if (out / "plate.yaml").is_file() else None
    W, H = fo.size
    info = PlateInfo(out, "plate.png", file_sha256(out / "plate.png"), (W, H),
                     {"name": fo.name, "sha256": fo.sha256, "kind": fo.kind, "frames": fo.total_frames,
                      "fps": fo.fps, "sampled": len(fo.frames)}, used, stats, scores, old, credit)
    info.save()
    summary = ", ".join(f"{k} {v['score']:.4f}" for k, v in scores.items())
    click.echo(f"plate {W}x{H} from {fo.name} ({len(fo.frames)} of {fo.total_frames} frames): {used}"
               + (f" (ghost scores: {summary})" if summary else ""))
    click.echo(f"noise {stats['noise_sigma']:.2f} levels, blur {stats['blur_sigma_px']:.2f} px, mean luminance "
               f"{stats['luminance']['mean']:.1f} -> {out}/plate.yaml")


def _load_pairs(path: Path, keys: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """A YAML/JSON list of {keys[0]: [a, b], keys[1]: [c, d]} -> two (N, 2) arrays."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise BadInput(f"{path}: cannot read it ({type(e).__name__}); expected a YAML or JSON list of "
                       f"{{{keys[0]}: [..], {keys[1]}: [..]}}") from None
    if not isinstance(data, list):
        raise BadInput(f"{path}: expected a list of {{{keys[0]}: [u, v], {keys[1]}: [..]}} entries")
    a, b = [], []
    for i, e in enumerate(data):
        try:
            a.append([float(x) for x in e[keys[0]]][:2])
            b.append([float(x) for x in e[keys[1]]][:2])
            if len(a[-1]) != 2 or len(b[-1]) != 2:
                raise ValueError
        except (KeyError, TypeError, ValueError):
            raise BadInput(f"{path}: entry {i + 1}: expected {{{keys[0]}: [x, y], {keys[1]}: [x, y]}}, got "
                           f"{json.dumps(e)[:80]}") from None
    return np.array(a).reshape(-1, 2), np.array(b).reshape(-1, 2)


@plate_command.command("calibrate")
@click.argument("plate_dir", type=click.Path(path_type=Path))
@click.option("--points", type=click.Path(path_type=Path), default=None,
              help="YAML/JSON list of {image: [u, v], ground: [x, y]} (pixels, metres), at least 4")
@click.option("--people", type=click.Path(path_type=Path), default=None,
              help="YAML/JSON list of {head: [u, v], foot: [u, v]} of at least 3 standing people")
@click.option("--person-height", default=1.7, show_default=True, type=float, help="assumed height of the people, m")
@click.option("--height", type=float, default=None, help="typed: camera height above the ground, m")
@click.option("--tilt", type=float, default=None, help="typed: downward pitch, degrees")
@click.option("--roll", type=float, default=0.0, show_default=True, help="typed: roll, degrees")
@click.option("--hfov", type=float, default=None, help="typed: horizontal field of view, degrees")
@click.option("--k1", type=float, default=0.0, show_default=True, help="typed: radial distortion k1")
def calibrate_command(plate_dir: Path, points: Path | None, people: Path | None, person_height: float,
                      height: float | None, tilt: float | None, roll: float, hfov: float | None, k1: float) -> None:
    """Fit the plate's camera, print the reprojection error and draw a ground grid (grid.png).
    With no input options, fits again from the input stored in plate.yaml."""
    from synthdata.plate import calibrate as cb
    from synthdata.plate.footage import read_image
    from synthdata.plate.images import draw_grid, write_png
    from synthdata.plate.store import load_plate

    info = load_plate(plate_dir)
    size = info.size
    typed = [height, tilt, hfov]
    given = sum(x is not None for x in (points, people)) + (any(v is not None for v in typed))
    if given > 1:
        raise BadInput("plate calibrate: give one of --points, --people or typed values (--height --tilt --hfov)")
    if points is not None:
        img, gnd = _load_pairs(points, ("image", "ground"))
        cal = cb.from_correspondences(img, gnd, size, where=str(points))
    elif people is not None:
        hd, ft = _load_pairs(people, ("head", "foot"))
        cal = cb.from_people(hd, ft, size, person_height, where=str(people))
    elif any(v is not None for v in typed):
        if None in typed:
            raise BadInput("plate calibrate: typed values need --height, --tilt and --hfov (and optionally --roll, --k1)")
        cal = cb.from_values(height, tilt, hfov, roll, k1, where="plate calibrate")
    elif info.calibration is not None:
        c, where = info.calibration, f"{plate_dir}/plate.yaml: calibration.input"
        inp = c.input
        if c.method == "correspondences":
            cal = cb.from_correspondences(inp["image"], inp["ground"], size, where=where)
        elif c.method == "people":
            cal = cb.from_people(inp["heads"], inp["feet"], size, inp.get("person_height_m", 1.7), where=where)
        else:
            cal = c
    else:
        raise BadInput(f"{plate_dir}: nothing to calibrate from; give --points FILE, --people FILE or "
                       "--height/--tilt/--hfov")
    info.calibration = cal
    info.save()
    plate = read_image(info.image_path, "image (the plate)")
    write_png(plate_dir / "grid.png", draw_grid(plate, cal))
    err = "n/a (typed values)" if cal.reprojection_px is None else f"{cal.reprojection_px:.2f} px"
    click.echo(f"calibration ({cal.method}): height {cal.position_m[2]:.2f} m, tilt {cal.tilt_deg:.1f} deg, "
               f"roll {cal.roll_deg:.1f} deg, hFOV {cal.hfov_deg:.1f} deg, pan {cal.pan_deg:.1f} deg")
    click.echo(f"reprojection error: {err}; ground grid drawn in {plate_dir}/grid.png")
