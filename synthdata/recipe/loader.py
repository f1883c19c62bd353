"""Reading a recipe: YAML (safe loader, line numbers kept) -> KEY=VALUE overrides -> Recipe.

Every problem is reported, one line each, as `source:line: dotted.path: what was expected`
(see problems.py):

    recipe.yaml:14: actors[1].count: expected a whole number or a distribution such as ..., got 'many'
    override 'output.clips=0': output.clips: expected a number >= 1, got 0

`recipe_to_yaml` writes the resolved recipe (defaults filled in, overrides applied); loading
that text again gives an equal Recipe.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from synthdata.errors import BadInput, RecipeError
from synthdata.recipe.distributions import Dist, show_value
from synthdata.recipe.mix import MIX_KEYS
from synthdata.recipe.overrides import LineMap, Segment, apply_overrides_collect, format_path
from synthdata.recipe.problems import validate
from synthdata.recipe.schema import Recipe

__all__ = ["load_recipe", "recipe_to_yaml", "flow_yaml", "parse_yaml", "validate"]

MAX_VALUES = 100_000     # a recipe expanding past this through YAML aliases is refused
_MERGE_TAG = "tag:yaml.org,2002:merge"


def load_recipe(path_or_text: str | os.PathLike | bytes, overrides: Any = (), *,
                source: str | None = None) -> Recipe:
    """Load and validate a recipe from a file path or from YAML text, then apply overrides.

    A str containing a newline (or starting with '{') is YAML text; any other str or a Path is
    a file. `source` names the recipe in messages (default: the path as given, or '<recipe>').
    Raises RecipeError listing every problem, or BadInput when the file cannot be read.
    """
    text, source = read_text(path_or_text, source)
    data, lines, problems = parse_yaml(text, source)
    if data is None:
        raise RecipeError("the recipe is empty; expected a mapping with name, seed and output", source=source)
    if not isinstance(data, dict):
        raise RecipeError(f"expected a mapping of recipe keys (name, seed, output, ...), got "
                          f"{_kind(data)}", source=source, line=int(lines.get("", 1)))
    data = _paths_from_recipe_dir(data, path_or_text)
    data, late = apply_overrides_collect(data, list(overrides), lines)
    if "mix" in data:                  # read mix entries' recipe files (recipe/mix.py)
        is_file = not (isinstance(path_or_text, bytes) or _is_text(path_or_text))
        base = Path(os.fspath(path_or_text)).resolve().parent if is_file else Path.cwd()
        data = resolve_mix_files(data, lines, source, base)
    return validate(data, lines, source, Recipe, problems, late)


RECIPE_RELATIVE_PATHS = (("postprocess", "refiner"),)   # resolved against the recipe file's folder
# resolved against the recipe file's folder when they exist there, else kept relative to the
# working directory (how recipes written before said them)
RECIPE_OR_CWD_PATHS = (("scene", "layout", "plate"), ("scene", "layout", "sketch"))


def _paths_from_recipe_dir(data: dict, path_or_text: Any) -> dict:
    """`data` with the relative paths of RECIPE_RELATIVE_PATHS (and of RECIPE_OR_CWD_PATHS that
    exist there) joined to the folder of the recipe file (unchanged for recipe text; override
    values stay relative to the working directory)."""
    if isinstance(path_or_text, bytes) or _is_text(path_or_text):
        return data
    base = Path(path_or_text).parent
    mix = data.get("mix")              # a mix entry's inline blocks are written in this file too
    blocks = [data] + ([e for e in mix if isinstance(e, dict)] if isinstance(mix, list) else [])
    for block in blocks:
        for keys in RECIPE_RELATIVE_PATHS + RECIPE_OR_CWD_PATHS:
            parent = block
            for k in keys[:-1]:
                parent = parent.get(k) if isinstance(parent, dict) else None
            value = parent.get(keys[-1]) if isinstance(parent, dict) else None
            if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
                if keys in RECIPE_RELATIVE_PATHS or (base / value).exists():
                    parent[keys[-1]] = str(base / value)
    return data


def recipe_to_yaml(recipe: BaseModel) -> str:
    """The resolved recipe as YAML: every key, defaults filled in, distributions in flow style."""
    plain = _plain(recipe, recipe.model_dump(mode="python"))
    return yaml.dump(plain, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100,
                     default_flow_style=False)


def flow_yaml(value: Any) -> str:
    """One line of YAML flow style: {poisson: 3.0} (distributions, summaries)."""
    if isinstance(value, BaseModel):
        value = _plain(value, value.model_dump(mode="python"))
    elif isinstance(value, Dist):
        value = value.to_yaml()
    text = yaml.dump(_flow(value), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10**6)
    return text.strip().removesuffix("\n...").strip()


def parse_yaml(text: str, source: str) -> tuple[Any, LineMap, list[tuple[int, str]]]:
    """Safe-load YAML text. Returns (data, line map, duplicate keys as (line, problem)).

    The line map holds the 1-based line of every mapping key and sequence item by dotted path
    (the root is ''). Raises RecipeError for syntax errors, tags that would build Python objects,
    recursive aliases and alias bombs.
    """
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as e:   # a control or binary character anywhere in the text
        at = max(0, min(e.position, len(text)))
        code = e.character if isinstance(e.character, int) else ord(e.character)
        raise RecipeError(f"character U+{code:04X} (a control or binary character) at column "
                          f"{at - text.rfind(chr(10), 0, at)}; a recipe is plain text",
                          source=source, line=text.count("\n", 0, at) + 1) from None
    lines: LineMap = {}
    problems: list[tuple[int, str]] = []
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lines, problems
        lines[""] = node.start_mark.line + 1
        _walk(node, [], lines, problems, source, set(), [0])
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        what = e.problem or "malformed YAML"
        if isinstance(e, yaml.constructor.ConstructorError) and "constructor for the tag" in what:
            tag = re.search(r"'([^']*)'", what)
            tag_name = tag.group(1).replace("tag:yaml.org,2002:", "!!") if tag else "this tag"
            what = f"{tag_name} is not allowed (a recipe never runs code)"
        elif e.context:
            what = f"{what} ({e.context})"
        raise RecipeError(f"YAML syntax error: {what}", source=source,
                          line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as e:
        raise RecipeError(f"YAML syntax error: {str(e).splitlines()[0]}", source=source) from None
    except RecursionError:
        raise RecipeError("the recipe is nested too deeply", source=source) from None
    finally:
        loader.dispose()
    return data, lines, problems


# --- reading -----------------------------------------------------------------------------------

def read_text(path_or_text: str | os.PathLike | bytes, source: str | None) -> tuple[str, str]:
    """A recipe's text and the name errors call it by: inline text as given, or a file read as
    UTF-8 (a missing, unreadable or binary file is one BadInput line naming `source`)."""
    if isinstance(path_or_text, bytes):
        path_or_text = path_or_text.decode("utf-8", errors="replace")
    if _is_text(path_or_text):
        return path_or_text, source or "<recipe>"
    src = source or os.fspath(path_or_text)
    try:
        return Path(path_or_text).read_text(encoding="utf-8"), src
    except FileNotFoundError:
        raise BadInput(f"{src}: recipe file not found") from None
    except IsADirectoryError:
        raise BadInput(f"{src}: is a directory; expected a recipe YAML file") from None
    except UnicodeDecodeError:
        raise BadInput(f"{src}: not a UTF-8 text file; expected a recipe YAML file") from None
    except OSError as e:
        raise BadInput(f"{src}: cannot read the recipe: {e.strerror or e}") from None


def _is_text(path_or_text: Any) -> bool:
    """A str holding a newline or starting with '{' is YAML text, not a file name."""
    return isinstance(path_or_text, str) and ("\n" in path_or_text or path_or_text.lstrip().startswith("{"))


def _walk(node: Node, path: list[Segment], lines: LineMap, problems: list[tuple[int, str]], source: str,
          stack: set[int], budget: list[int]) -> None:
    """Record the line of every key and item under `node`; note duplicate keys."""
    budget[0] += 1
    if budget[0] > MAX_VALUES:
        raise RecipeError(f"the recipe expands to more than {MAX_VALUES:,} values through YAML "
                          f"aliases; refusing to load it", source=source)
    if id(node) in stack:
        raise RecipeError("recursive YAML alias (a value that contains itself)", source=source,
                          line=node.start_mark.line + 1)
    stack.add(id(node))
    if isinstance(node, MappingNode):
        merged = [v for k, v in node.value if k.tag == _MERGE_TAG]
        for m in merged:   # merged keys come first; the mapping's own keys win
            for sub in (m.value if isinstance(m, SequenceNode) else [m]):
                if isinstance(sub, MappingNode):
                    _walk(sub, path, lines, problems, source, stack, budget)
        first: dict[str, int] = {}
        for k, v in node.value:
            if k.tag == _MERGE_TAG or not isinstance(k, ScalarNode):
                continue
            p, line = format_path([*path, k.value]), k.start_mark.line + 1
            if k.value in first:
                problems.append((line, f"{source}:{line}: {p}: duplicate key (first given on line "
                                       f"{first[k.value]})"))
            first[k.value] = line
            lines[p] = line
            _walk(v, [*path, k.value], lines, problems, source, stack, budget)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            lines[format_path([*path, i])] = item.start_mark.line + 1
            _walk(item, [*path, i], lines, problems, source, stack, budget)
    stack.discard(id(node))


def _kind(v: Any) -> str:
    if isinstance(v, list):
        return "a list"
    return f"{type(v).__name__} {show_value(v)}" if not isinstance(v, str) else f"text {show_value(v)}"


# --- writing -------------------------------------------------------------------------------------

class _Flow(dict):
    """A mapping written in flow style: {uniform: [1.0, 2.0]}."""


class _FlowList(list):
    """A list written in flow style: [96, 64]."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True))
_Dumper.add_representer(_FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v,
                                                                     flow_style=True))


def _flow(v: Any) -> Any:
    if isinstance(v, dict):
        return _Flow({k: _flow(x) for k, x in v.items()})
    if isinstance(v, (list, tuple)):
        return _FlowList(_flow(x) for x in v)
    return v


def _plain(value: Any, dumped: Any) -> Any:
    """Dumped model data made YAML-safe, walking the model alongside to spot distributions."""
    if isinstance(value, Dist):
        return _flow(dumped)
    if isinstance(value, BaseModel) and isinstance(dumped, dict):
        return {k: _plain(getattr(value, k, None), v) for k, v in dumped.items()}
    if isinstance(dumped, dict):
        return {k: _plain(None, v) for k, v in dumped.items()}
    if isinstance(dumped, (list, tuple)):
        same = isinstance(value, (list, tuple)) and len(value) == len(dumped)
        vals = list(value) if same else [None] * len(dumped)
        items = [_plain(v, d) for v, d in zip(vals, dumped)]
        if all(not isinstance(x, (dict, list)) or isinstance(x, (_Flow, _FlowList)) for x in items):
            return _flow(items)
        return items
    return dumped


# --- mix recipes (recipe/mix.py) ----------------------------------------------------------------
def resolve_mix_files(data: dict, lines: dict, source: str, base: Path | None) -> dict:
    """Replace every `mix[i].recipe: FILE` by that file's scene blocks (read and validated as a
    recipe of its own), recording the path as `source`. Raises RecipeError at the entry's line."""
    mix = data.get("mix")
    if not isinstance(mix, list):
        return data
    out = []
    for i, entry in enumerate(mix):
        if not isinstance(entry, dict) or "recipe" not in entry:
            out.append(entry)
            continue
        ref = entry["recipe"]
        line = int(lines.get(f"mix[{i}].recipe", lines.get(f"mix[{i}]", 1)))
        if not isinstance(ref, str) or not ref.strip():
            raise RecipeError(f"mix[{i}].recipe: expected the path of a recipe file, got {ref!r}",
                              source=source, line=line)
        extra = set(entry) & set(MIX_KEYS)
        if extra:
            raise RecipeError(f"mix[{i}]: give either recipe: FILE or inline {', '.join(sorted(extra))}, "
                              f"not both", source=source, line=line)
        path = Path(ref) if os.path.isabs(ref) or base is None else base / ref
        if not path.is_file():
            raise RecipeError(f"mix[{i}].recipe: no such recipe file {ref!r} (looked for {path})",
                              source=source, line=line)
        sub = load_recipe(str(path))
        if sub.mix:
            raise RecipeError(f"mix[{i}].recipe: {ref} is itself a mix recipe; mixes do not nest",
                              source=source, line=line)
        # the file's blocks, then the entry's own keys (weight, and a postprocess of its own wins)
        block = _dump_blocks(sub) | {k: v for k, v in entry.items() if k != "recipe"} | {"source": str(ref)}
        out.append(block)
    return {**data, "mix": out}


def _dump_blocks(sub: Any) -> dict:
    """The scene blocks of a loaded recipe as plain YAML values (round-trip through the writer),
    and its postprocess when that sets a refiner (its path already absolute)."""
    plain = yaml.safe_load(recipe_to_yaml(sub))
    own = {"postprocess": plain["postprocess"]} if sub.postprocess.refiner else {}
    return {k: plain[k] for k in MIX_KEYS if k in plain} | own
