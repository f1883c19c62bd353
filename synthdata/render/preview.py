"""`synthdata preview`: see a recipe before a long run.

Renders a few sampled clips in memory and writes a contact sheet (first, middle and last frame of
each clip, one row per clip) with visible boxes, amodal boxes, track ids and skeletons drawn, or
with `--video` a short MP4 of the clips one after another with the same overlays.
"""
from __future__ import annotations

import contextlib
import gc
import os

from pathlib import Path

import click
import numpy as np
from PIL import Image, ImageDraw

from synthdata.world.types import COCO_SKELETON

PALETTE = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
           (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (220, 190, 255)]


def track_color(track_id: int) -> tuple[int, int, int]:
    return PALETTE[track_id % len(PALETTE)]


def draw_labels(frame: np.ndarray, rows: list[dict], *, amodal: bool = True) -> Image.Image:
    """Frame (H, W, 3) uint8 with its object rows drawn: visible box (solid), amodal box (thin),
    'id category' tag, COCO skeleton (visible joints filled, occluded joints hollow)."""
    img = Image.fromarray(frame)
    d = ImageDraw.Draw(img)
    for r in rows:
        col = track_color(int(r["track_id"]))
        if amodal:
            d.rectangle([r["ax"], r["ay"], r["ax"] + r["aw"], r["ay"] + r["ah"]], outline=tuple(c // 2 for c in col))
        if r["x"] is not None:
            d.rectangle([r["x"], r["y"], r["x"] + r["w"] - 1, r["y"] + r["h"] - 1], outline=col, width=1)
            d.text((r["x"] + 1, max(r["y"] - 10, 0)), f"{r['track_id']} {r['category']}", fill=col)
        kp = r.get("keypoints")
        if kp:
            k = np.asarray(kp, float).reshape(17, 3)
            for a, b in COCO_SKELETON:
                if k[a, 2] > 0 and k[b, 2] > 0:
                    d.line([tuple(k[a, :2]), tuple(k[b, :2])], fill=col if min(k[a, 2], k[b, 2]) == 2 else (128, 128, 128))
            for x, y, v in k:
                if v == 2:
                    d.ellipse([x - 1.5, y - 1.5, x + 1.5, y + 1.5], fill=col)
                elif v == 1:
                    d.ellipse([x - 1.5, y - 1.5, x + 1.5, y + 1.5], outline=col)
    return img


def rows_by_frame(objects: dict[str, list]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for vals in zip(*objects.values()):
        r = dict(zip(objects.keys(), vals))
        out.setdefault(int(r["frame"]), []).append(r)
    return out


def render_clip_frames(recipe, index: int, device: str, dense: dict | None = None
                       ) -> tuple[np.ndarray, dict[int, list[dict]], str]:
    """Frames, rows by frame and clip id of clip `index`; its dense maps go into `dense`."""
    from synthdata.pipeline import render_clip

    clip = render_clip(recipe, index, device=device)
    if dense is not None:
        dense.update(clip.dense)
    return clip.frames, rows_by_frame(clip.objects), clip.clip_id


def render_some_frames(recipe, index: int, device: str, pick=lambda T: sorted({0, T // 2, T - 1})
                       ) -> tuple[dict[int, np.ndarray], dict[int, list[dict]], str]:
    """Only the frames `pick(num_frames)` of clip `index` (the whole clip is simulated, since
    motion and events need it, but only those frames are projected, rendered and labelled): the
    same pixels and rows as in a full run, as {frame: (H, W, 3) uint8} and {frame: rows}."""
    from synthdata.labels.extents import track_extents
    from synthdata.labels.rows import label_chunk
    from synthdata.pipeline import refiner_step, resolve_device
    from synthdata.plan import clip_id, clip_seed
    from synthdata.render.renderer import Renderer
    from synthdata.world.sample import sample_clip
    from synthdata.world.simulate import simulate

    cid = clip_id(recipe, index)
    world = simulate(sample_clip(recipe, index, seed=clip_seed(recipe.seed, index), clip_id=cid))
    shown = pick(world.num_frames)
    ext = track_extents(world, np.asarray(shown))      # extents of the shown frames only
    renderer = Renderer(world, resolve_device(device), part_bounds=ext.parts, parts=False, recycle=True)
    own, _ = recipe.for_clip(clip_seed(recipe.seed, index))     # a mix entry's own refiner, as in a run
    refine = refiner_step(own, renderer.device, {})             # postprocess.refiner, as in a run
    frames, rows = {}, {}
    for t in shown:
        batch = renderer.render(t, t + 1)
        frames[t] = (batch.rgb if refine is None else refine(batch.rgb))[0].cpu().numpy()
        rows.update(rows_by_frame(label_chunk(world, batch, cid, ext, masks=False)))
    return frames, rows, cid


def contact_sheet(recipe, clips: int, device: str, scale: float = 1.0, views: tuple[str, ...] = ()) -> Image.Image:
    """First, middle and last frame of each clip, each followed by pictures of the dense maps
    named in `views` (render/dense_view.py; they must be among output.modalities). Without views
    only those frames are rendered; dense maps (flow needs neighbours) come from the whole clip."""
    from synthdata.render.dense_view import VIEWS

    tiles: list[list[Image.Image]] = []
    quick = []
    if not views:       # clips side by side on the cores (the compiled kernels release the GIL)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max(1, min(clips, os.cpu_count() or 1))) as pool:
            quick = list(pool.map(lambda i: render_some_frames(recipe, i, device), range(clips)))
    for i in range(clips):
        maps: dict = {}
        if views:
            full, rows, cid = render_clip_frames(recipe, i, device, maps)
            frames = {t: full[t] for t in sorted({0, len(full) // 2, len(full) - 1})}
        else:
            frames, rows, cid = quick[i]
        row = []
        for t in sorted(frames):
            img = draw_labels(frames[t], rows.get(t, []))
            ImageDraw.Draw(img).text((4, 4), f"{cid} frame {t}", fill=(255, 255, 255))
            extra = [Image.fromarray(VIEWS[v](maps[v][t])) for v in views]
            for v, e in zip(views, extra):
                ImageDraw.Draw(e).text((4, 4), f"{v} {t}", fill=(255, 255, 255))
            for im in [img] + extra:
                row.append(im.resize((int(im.width * scale), int(im.height * scale))) if scale != 1.0 else im)
        tiles.append(row)
    w, h = tiles[0][0].size
    cols = max(len(r) for r in tiles)
    sheet = Image.new("RGB", (cols * w + (cols - 1) * 4, len(tiles) * h + (len(tiles) - 1) * 4), (16, 16, 16))
    for r, row in enumerate(tiles):
        for c, img in enumerate(row):
            sheet.paste(img, (c * (w + 4), r * (h + 4)))
    return sheet


@click.command("preview")
@click.argument("recipe_path", metavar="RECIPE", type=click.Path(dir_okay=False))
@click.argument("overrides", nargs=-1, metavar="[KEY=VALUE]...")
@click.option("--out", "out", default="preview.png", show_default=True, help="PNG contact sheet, or MP4 with --video")
@click.option("--clips", default=3, show_default=True, type=click.IntRange(1, 64), help="clips to sample")
@click.option("--video", is_flag=True, help="write an MP4 with overlays instead of a contact sheet")
@click.option("--frames", default=None, type=click.IntRange(1, 100000), help="override output.frames_per_clip")
@click.option("--device", default="auto", type=click.Choice(["auto", "cpu", "cuda"]), show_default=True)
@click.option("--dense", "views", multiple=True, type=click.Choice(["depth", "flow", "backflow", "instances", "classes"]),
              help="also show this dense map beside each frame (flow on a colour wheel); repeatable")
def preview_command(recipe_path: str, overrides: tuple[str, ...], out: str, clips: int, video: bool,
                    frames: int | None, device: str, views: tuple[str, ...]) -> None:
    """Render a few sampled clips of RECIPE with labels drawn, to look at before a long run."""
    with no_cyclic_gc():
        _preview(recipe_path, overrides, out, clips, video, frames, device, views)


@contextlib.contextmanager
def no_cyclic_gc():
    """No cyclic garbage collection inside (a short command): importing torch and numba builds a
    few hundred thousand long-lived objects that the collector's full passes would scan again and
    again (about half a second of a preview), and rendering clips makes no cyclic garbage."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def check_out(path: Path, video: bool) -> None:
    """`--out` names a file the contact sheet can be written as (an image type PIL saves), checked
    before anything renders; with --video any name takes the MP4."""
    if video:
        return
    kind = Image.registered_extensions().get(path.suffix.lower())
    if kind is None or kind not in Image.SAVE:
        from synthdata.errors import BadInput
        raise BadInput(f"--out {path}: expected an image file name for the contact sheet, such as preview.png "
                       "(or .jpg, .webp), or an .mp4 with --video")


def _preview(recipe_path: str, overrides: tuple[str, ...], out: str, clips: int, video: bool,
             frames: int | None, device: str, views: tuple[str, ...]) -> None:
    from synthdata.pipeline import resolve_device
    from synthdata.precompile import compiling
    from synthdata.recipe.loader import load_recipe

    check_out(Path(out), video)
    ov = list(overrides) + ([f"output.frames_per_clip={frames}"] if frames else [])
    recipe = load_recipe(recipe_path, ov)
    if views:
        recipe.output.modalities = sorted(set(recipe.output.modalities) | set(views))
        recipe = type(recipe).model_validate(recipe.model_dump())
    n = min(clips, recipe.output.clips)
    path = Path(out)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    # on a CPU, a first run's kernels compile on every core (synthdata/precompile.py), with a message
    on_cpu = resolve_device(device).type == "cpu"
    with compiling(lambda line: click.echo(line, err=True)) if on_cpu else contextlib.nullcontext():
        if video:
            from synthdata.io.video import encode_video

            drawn = []
            for i in range(n):
                fr, rows, _ = render_clip_frames(recipe, i, device)
                drawn.extend(np.asarray(draw_labels(f, rows.get(t, []))) for t, f in enumerate(fr))
            encode_video(np.stack(drawn), str(path), fps=recipe.output.fps)
            click.echo(f"wrote {path} ({len(drawn)} frames from {n} clips)")
            return
        sheet = contact_sheet(recipe, n, device, views=tuple(dict.fromkeys(views)))
    if path.suffix.lower() == ".png":
        from synthdata.io.png import write_png
        write_png(path, np.asarray(sheet))
    else:
        sheet.save(path)
    click.echo(f"wrote {path} ({n} clips x first/middle/last frame)")
