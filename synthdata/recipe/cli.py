"""`synthdata validate RECIPE [KEY=VALUE ...]`: check a recipe and summarise what it would make;
`synthdata schema`: the recipe JSON Schema.

Problems are raised as RecipeError (one line each; synthdata/cli.py prints them and exits 2).
"""
from __future__ import annotations

import os

import click

from synthdata.errors import BadInput
from synthdata.recipe.distributions import Dist, show_value
from synthdata.recipe.loader import flow_yaml, load_recipe, recipe_to_yaml
from synthdata.recipe.schema import Recipe

# Rough H.264 rate: bits per pixel per frame at crf 23, doubling every 6 crf lower.
BPP_AT_CRF23 = 0.1
# Rough compressed bytes per objects-table row: the box columns, plus COCO-17 keypoints for
# people and an RLE mask when masks are on.
ROW_BYTES, KEYPOINT_BYTES, MASK_BYTES = 40, 80, 60


def bits_per_pixel(crf: int) -> float:
    """Estimated H.264 bits per pixel per frame at a given crf (lower crf: more bits)."""
    return BPP_AT_CRF23 * 2.0 ** ((23 - crf) / 6)


def expected_objects_per_frame(recipe: Recipe) -> tuple[float, float]:
    """Mean number of (all, people) actors per clip from the groups' counts."""
    total = people = 0.0
    for group in recipe.actors:
        count = getattr(group, "count", 0)
        mean = count.mean() if isinstance(count, Dist) else float(count or 0)
        total += mean or 0.0
        if getattr(group, "type", None) == "person":
            people += mean or 0.0
    return total, people


def estimate_output_bytes(recipe: Recipe) -> tuple[int, int, int]:
    """(video bytes, table bytes, object rows), rough: for planning disk space, not a promise."""
    out = recipe.output
    frames = out.clips * out.frames_per_clip * len(recipe.scene.camera_list())    # every camera's video
    w, h = out.resolution
    video = w * h * frames * bits_per_pixel(out.video.crf) / 8
    objects, people = expected_objects_per_frame(recipe)
    rows = frames * objects
    mask = MASK_BYTES if out.masks else 0
    table = frames * (objects * (ROW_BYTES + mask) + people * KEYPOINT_BYTES)
    return int(video), int(table), round(rows)


# stored bytes per pixel per frame of each dense modality (PNG; benchmarks/bench_dense.py, 640x480)
DENSE_BYTES_PER_PIXEL = {"depth": 0.086, "flow": 0.025, "backflow": 0.025, "instances": 0.0113, "classes": 0.0097}


def estimate_dense_bytes(recipe: Recipe) -> int:
    """Rough bytes of the dense maps of output.modalities (0 for rgb only)."""
    out = recipe.output
    w, h = out.resolution
    per_pixel = sum(DENSE_BYTES_PER_PIXEL[m] for m in out.dense_modalities)
    return int(w * h * out.clips * out.frames_per_clip * len(recipe.scene.camera_list()) * per_pixel)


def human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1000
    return f"{n} B"  # unreachable


def human_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.3g} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {seconds % 60:.0f} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"


def summarize(recipe: Recipe, source: str = "", overrides: int = 0) -> str:
    """A one-screen description of what the recipe will generate."""
    out = recipe.output
    w, h = out.resolution
    frames = out.clips * out.frames_per_clip
    video, table, rows = estimate_output_bytes(recipe)
    where = f" ({source}" + (f", {overrides} override{'s' * (overrides != 1)}" if overrides else "") + ")"
    lines = [
        f"recipe {recipe.name}{where if source else ''}: valid",
        f"  seed        {recipe.seed}",
        f"  clips       {out.clips} in {recipe.num_shards} shard{'s' * (recipe.num_shards != 1)} "
        f"({out.clips_per_shard} clips per shard)",
        f"  frames      {out.frames_per_clip} per clip at {out.fps:g} fps "
        f"({human_duration(out.frames_per_clip / out.fps)} per clip)",
        f"  total       {frames:,} frames, {human_duration(frames / out.fps)} of video",
        f"  resolution  {w}x{h}",
        *([f"  cameras     {len(recipe.scene.cameras)}: {', '.join(c.name for c in recipe.scene.cameras)} "
           f"(one video each per clip)"] if recipe.scene.cameras else []),
        f"  video       {out.video.codec} crf {out.video.crf}, preset {out.video.preset}",
        f"  estimate    ~{human_bytes(video + table)}: ~{human_bytes(video)} video, "
        f"~{human_bytes(table)} tables (~{rows:,} object rows)",
    ]
    if recipe.postprocess.refiner:
        post = recipe.postprocess
        lines.append(f"  refiner     {os.path.basename(post.refiner)}, strength {post.strength:g}, precision {post.precision}"
                     + (" (mix entries with their own refiner keep theirs)" if recipe.mix else ""))
    if out.dense_modalities:
        lines.append(f"  dense       {', '.join(out.dense_modalities)}: ~{human_bytes(estimate_dense_bytes(recipe))} "
                     f"more (one PNG per frame each)")
    rz = recipe.scene.randomize
    if rz.active:
        shares = [f"{name.replace('_', ' ')} {100 * getattr(rz, name).p:g} %"
                  for name in ("textures", "distractors", "color_cast", "lights") if getattr(rz, name).p > 0]
        lines.append(f"  randomize   share of clips: {', '.join(shares)}")
    if recipe.actors:
        lines.append(f"  actors      {len(recipe.actors)} group{'s' * (len(recipe.actors) != 1)}")
        for i, group in enumerate(recipe.actors):
            fields = group.model_dump(mode="python")
            kind = fields.pop("type", type(group).__name__)
            lines.append(f"    [{i}] {kind}: {flow_yaml(fields)}")
    elif recipe.mix:
        total = sum(e.weight for e in recipe.mix)
        lines.append(f"  mix         {len(recipe.mix)} entries, each clip from one (scene and actors of the entry)")
        for i, e in enumerate(recipe.mix):
            refined = f", refiner {os.path.basename(e.postprocess.refiner)}" if e.postprocess and e.postprocess.refiner else ""
            lines.append(f"    [{i}] {100 * e.weight / total:.0f} %: {e.source or 'inline'}, layout {show_value(e.scene.layout.type).strip(chr(39))}, "
                         f"{len(e.actors)} actor group{'s' * (len(e.actors) != 1)}{refined}")
    else:
        lines.append("  actors      none (empty scenes)")
    return "\n".join(lines)


@click.command("validate")
@click.argument("recipe", metavar="RECIPE")
@click.argument("overrides", nargs=-1, metavar="[KEY=VALUE]...")
@click.option("--resolved", is_flag=True,
              help="Print the resolved recipe (defaults filled in, overrides applied) as YAML.")
def validate_command(recipe: str, overrides: tuple[str, ...], resolved: bool) -> None:
    """Check RECIPE (with optional KEY=VALUE overrides such as output.clips=8) and summarise it.

    Exits 0 when the recipe is valid; otherwise prints one line per problem and exits 2.
    """
    r = load_recipe(recipe, list(overrides))
    click.echo(recipe_to_yaml(r) if resolved else summarize(r, recipe, len(overrides)), nl=not resolved)


@click.command("schema")
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="Write the schema to this file instead of stdout.")
def schema_command(out: str | None) -> None:
    """Print the recipe JSON Schema (draft 2020-12) for editors with a YAML language server.

    Save it (`synthdata schema > recipe.schema.json`) and put
    `# yaml-language-server: $schema=recipe.schema.json` on a recipe's first line.
    """
    import json

    from synthdata.recipe.schema import recipe_json_schema

    text = json.dumps(recipe_json_schema(), indent=2) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise BadInput(f"--out {out}: cannot write the schema: {e.strerror or e}") from None
