"""`synthdata draft "TEXT" [--out recipe.yaml] [--from BASE] [--llm URL --model NAME]`.

Prints (or writes) a commented recipe drafted from an English description, validated through
the normal loader. Words it could not use are listed on stderr as `ignored: 'word' — why`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from synthdata.errors import BadInput, RecipeError, SynthdataError
from synthdata.recipe.draft.plates import plate_supported, read_plate

EXAMPLE = '"night car park, light rain, someone loiters by the gate"'


def read_base(path: str) -> tuple[dict[str, Any], str]:
    """The --from recipe as a raw mapping (validated first), and its text."""
    from synthdata.recipe.loader import load_recipe, parse_yaml, read_text

    text, _ = read_text(Path(path), f"--from {path}")
    load_recipe(text if "\n" in text else text + "\n", source=path)
    data, _, _ = parse_yaml(text, path)
    return data, text


def header_lines(text: str, base: str | None, how: str, *, kept: bool = False) -> list[str]:
    quoted = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    lines = [f"Drafted by `synthdata draft` ({how}) from:", f'  "{quoted}"']
    if base:
        lines.append(f"Starting from {base}: only what the text names was changed"
                     + (" (marked 'was ...')." if kept else " (its comments are not kept)."))
    lines += ["Comments say which words set each value; 'default' marks values chosen without words.",
              "Check it: synthdata validate RECIPE; look at it: synthdata preview RECIPE --out preview.png", ""]
    return lines


def rule_based(text: str, base: dict[str, Any] | None, base_path: str | None,
               base_text: str | None = None) -> tuple[str, list[str]]:
    """The recipe text and the lines for stderr (ignored words, notes)."""
    from synthdata.recipe.draft.grammar import read
    from synthdata.recipe.draft.mapping import build
    from synthdata.recipe.draft.writer import dump

    reading = read(text)
    plate = read_plate(reading.plate.value) if reading.plate is not None and plate_supported() else None
    draft = build(reading, base, plate=plate)
    patched = None
    if base_text is not None:
        from synthdata.recipe.draft.patch import patch

        patched = patch(base_text, draft.data, draft.notes,
                        _with_ignored(header_lines(text, base_path, "rule-based", kept=True), draft.ignored))
    messages = [f"ignored: '{w}' — {why}" for w, why in draft.ignored]
    messages += [f"note: {w}" for w in draft.warnings]
    if patched is not None:
        return patched, messages
    header = _with_ignored(header_lines(text, base_path, "rule-based"), draft.ignored)
    return dump(draft.data, draft.notes, header), messages


def _with_ignored(header: list[str], ignored: list[tuple[str, str]]) -> list[str]:
    return header[:-1] + [f"Not used: '{w}' ({why})" for w, why in ignored] + header[-1:]


def _uses_plate(recipe_text: str) -> bool:
    import yaml

    data = yaml.safe_load(recipe_text)
    layout = ((data.get("scene") or {}).get("layout") or {}) if isinstance(data, dict) else {}
    return isinstance(layout, dict) and layout.get("type") == "plate"


@click.command("draft")
@click.argument("text", metavar="TEXT")
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="Write the recipe here (default: print it).")
@click.option("--from", "base_path", metavar="RECIPE", default=None,
              help="Start from this recipe and change only what TEXT says.")
@click.option("--llm", "llm_url", metavar="URL", default=None,
              help="OpenAI-compatible endpoint (http://host:port); key from $SYNTHDATA_LLM_API_KEY.")
@click.option("--model", default=None, help="Model name for --llm.")
@click.option("--llm-retries", type=click.IntRange(0, 10), default=2, show_default=True,
              help="Times to send validation problems back to the model.")
@click.option("--llm-timeout", type=click.FloatRange(1, 3600), default=120.0, show_default=True,
              help="Seconds to wait for each answer.")
def draft_command(text: str, out: str | None, base_path: str | None, llm_url: str | None, model: str | None,
                  llm_retries: int, llm_timeout: float) -> None:
    """Draft a commented recipe from an English description TEXT.

    Example: synthdata draft "night car park, light rain, someone loiters by the gate" --out night.yaml
    """
    from synthdata.recipe.loader import load_recipe

    if not text.strip():
        raise BadInput(f"draft: TEXT is empty; describe the scene, e.g. synthdata draft {EXAMPLE}")
    if llm_url and not model:
        raise BadInput("--llm needs --model NAME (the model the endpoint serves)")
    if model and not llm_url:
        raise BadInput("--model needs --llm URL (an OpenAI-compatible endpoint)")
    base, base_text = read_base(base_path) if base_path else (None, None)
    recipe_text, messages = None, []
    if llm_url:
        from synthdata.recipe.draft.llm import LLMFailed, draft_with_llm

        try:
            answer = draft_with_llm(text, llm_url, model, retries=llm_retries, timeout=llm_timeout,
                                    base_yaml=base_text)
            head = header_lines(text, base_path, f"model {model}, {answer.tries} "
                                                 f"tr{'y' if answer.tries == 1 else 'ies'}")
            from synthdata.recipe.draft.writer import dump
            recipe_text = dump(answer.data, {}, head)
            messages = [f"llm: repaired after: {p}" for p in answer.problems]
        except LLMFailed as e:
            messages = [f"llm: {e}; falling back to the rule-based draft"]
    if recipe_text is None:
        recipe_text, more = rule_based(text, base, base_path, base_text)
        messages += more
    try:
        recipe = load_recipe(recipe_text, source=out or "draft")
    except RecipeError as e:
        if base_path or _uses_plate(recipe_text):   # the user's recipe or plate folder is at fault
            raise BadInput("the drafted recipe does not validate: " + "; ".join(e.problems)) from None
        raise SynthdataError("the drafted recipe does not validate (a bug in `synthdata draft`; please report): "
                             + "; ".join(e.problems)) from None
    for line in messages:
        click.echo(line, err=True)
    if out is None:
        click.echo(recipe_text, nl=False)
        return
    try:
        Path(out).write_text(recipe_text, encoding="utf-8")
    except OSError as e:
        raise BadInput(f"--out {out}: cannot write the recipe: {e.strerror or e}") from None
    click.echo(f"wrote {out}: recipe {recipe.name}, {recipe.output.clips} clips of "
               f"{recipe.output.frames_per_clip / recipe.output.fps:g} s")
