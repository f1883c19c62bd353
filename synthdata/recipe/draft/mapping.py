"""What a text said (grammar.Reading) -> a recipe mapping with a comment per value.

`build(reading)` drafts a whole recipe, choosing documented defaults for what the text left
out; `build(reading, base)` starts from an existing recipe mapping and changes only what the
text said (plus zones a named scenario cannot work without).
"""
from __future__ import annotations

import hashlib
import re
from typing import Any

from synthdata.recipe.draft import lexicon as lx
from synthdata.recipe.draft.builder import Builder, Draft
from synthdata.recipe.draft.cameras import spread_cameras
from synthdata.recipe.draft.grammar import Group, Reading
from synthdata.recipe.draft.plates import PlateFacts
from synthdata.recipe.draft.rules import Said
from synthdata.recipe.draft.scenarios import DURATION_FIELD, ORDER, PERSON_SCENARIOS, ScenarioPlanner

DEFAULT_FPS, DEFAULT_CLIP_S, DEFAULT_CLIPS, DEFAULT_RESOLUTION = 10, 6.0, 8, [640, 480]
MAX_FRAMES = 100_000                      # output.frames_per_clip's limit
CAMERA = {"outdoor": {"height_m": {"uniform": [5, 9]}, "tilt_deg": {"uniform": [25, 40]},
                      "hfov_deg": {"uniform": [55, 75]}},
          "indoor": {"height_m": {"uniform": [2.7, 3.5]}, "tilt_deg": {"uniform": [24, 35]},
                     "hfov_deg": {"uniform": [65, 90]}}}
# "busy street", "quiet lobby": factor on the default counts
CROWDS = {"busy": 3.0, "quiet": 0.4, "empty": 0.0, None: 1.0}
# layout -> actor groups of a draft that names none: (type, (min, max) count, behaviour)
DEFAULT_GROUPS = {
    "parking_lot": [("person", (3, 7), {"choice": {"walk": 0.7, "stand": 0.15, "loiter": 0.15}}),
                    ("vehicle", (2, 4), {"choice": {"parked": 0.5, "park": 0.2, "drive": 0.3}})],
    "street": [("person", (4, 9), {"choice": {"walk": 0.75, "stand": 0.15, "run": 0.1}}),
               ("vehicle", (2, 4), "drive")],
    "indoor": [("person", (3, 7), {"choice": {"walk": 0.7, "stand": 0.2, "loiter": 0.1}})],
    "plate": [("person", (2, 5), "walk"), ("vehicle", (0, 1), "drive")],
}
_CAMERA_WORDS = re.compile(r"\b(camera|cam|cctv|mounted|mount|high|height|pole|elevated|above|up|ceiling|"
                           r"installed|placed|overhead|tall|mast)\b")


def build(reading: Reading, base: dict[str, Any] | None = None, *, plate: PlateFacts | None = None) -> Draft:
    """The draft of a recipe; `plate`: the facts of the plate folder the text named (plates.py)."""
    b = Builder(base)
    ignored = list(reading.ignored)
    if b.fresh:
        for key in ("version", "name", "description", "seed", "output", "scene", "actors", "zones", "events",
                    "scenario"):
            b.data[key] = None
        b.data["output"] = dict.fromkeys(("clips", "clips_per_shard", "frames_per_clip", "fps", "resolution"))
        b.data["scene"] = dict.fromkeys(("layout", "camera", "lighting", "weather", "sensor"))
    layout = _site(b, reading, ignored, plate)
    indoor = layout == "indoor"
    _when_and_weather(b, reading, indoor)
    for path, said in reading.settings.items():
        b.put(path, said.value, f"from '{said.words}'")
    _camera(b, reading, ignored, indoor)
    needs = _scenarios(b, reading, layout, ignored)
    _actors(b, reading, layout, ignored)
    _output(b, reading, needs)
    if b.fresh:
        _identity(b, reading, layout)
        b.data = _prune(b.data)
    return Draft(b.data, b.notes, ignored=ignored, warnings=b.warnings + reading.notes)


# --- where, when, weather, camera ------------------------------------------------------------------

def _site(b: Builder, r: Reading, ignored: list, plate: PlateFacts | None) -> str:
    if r.plate is not None:
        if plate is not None:
            b.put(("scene", "layout"), {"type": "plate", "plate": plate.dir}, f"from '{r.plate.words}'")
            if plate.sketch:
                b.put(("scene", "layout", "sketch"), plate.sketch, "found in the plate folder")
            b.layout_zones = plate.zones
            b.plate_size = plate.size
            return "plate"
        ignored.append((r.plate.words, "this synthdata has no plate layout (scene.layout.type: plate) yet"))
    sites = list(dict.fromkeys(s.value for s in r.sites))
    words = ", ".join(f"'{s.words}'" for s in r.sites)
    zones_needed = any(n in r.scenarios for n in ("intrusion", "line_crossing", "illegal_parking", "wrong_way"))
    current = b.get(("scene", "layout", "type"))
    if len(sites) > 1 and not zones_needed:
        b.put(("scene", "layout", "type"), {"choice": sites}, f"from {words}")
        return sites[0]
    if sites:
        if len(sites) > 1:
            b.warn(f"several sites named ({words}); the zones of the scenarios need one, using {sites[0]}")
        b.put(("scene", "layout", "type"), sites[0], f"from '{r.sites[0].words}'")
        layout = sites[0]
    elif isinstance(current, str):
        layout = current
    else:
        layout = ("street" if "wrong_way" in r.scenarios else "parking_lot")
        why = "wrong-way movement needs lanes" if "wrong_way" in r.scenarios else "no site named"
        b.default(("scene", "layout", "type"), layout, why)
    for key, feature in r.features.items():
        if layout in feature.extra:
            b.put(("scene", "layout", key), feature.value, f"from '{feature.words}'")
        else:
            where = layout.replace("_", " ")
            ignored.append((feature.words, f"{'an' if where[0] in 'aeiou' else 'a'} {where} layout has no "
                                           f"{key.replace('_', ' ')}"))
    said = {s.words for s in r.sites}
    if layout == "indoor" and said & lx.NARROW_SITES:
        b.put(("scene", "layout", "size_m"), [{"uniform": [5, 8]}, {"uniform": [18, 26]}],
              f"a long, narrow room for '{next(iter(said & lx.NARROW_SITES))}'")
    if layout == "street" and said & lx.SITE_WORDS_WITH_CROSSING:
        b.put(("scene", "layout", "crossing"), True, f"from '{next(iter(said & lx.SITE_WORDS_WITH_CROSSING))}'")
    return layout


def _one_or_choice(values: list[Any]) -> Any:
    values = list(dict.fromkeys(values))
    return values[0] if len(values) == 1 else {"choice": values}


def _words(saids: list[Said]) -> str:
    return ", ".join(f"'{w}'" for w in dict.fromkeys(s.words for s in saids))


def _when_and_weather(b: Builder, r: Reading, indoor: bool) -> None:
    L, W = ("scene", "lighting"), ("scene", "weather")
    if r.times:
        extra = " (indoors the ceiling lights are on at any hour)" if indoor else ""
        b.put(L + ("time_of_day",), _one_or_choice([t.value for t in r.times]), f"from {_words(r.times)}{extra}")
    elif not indoor:
        b.default(L + ("time_of_day",), "day", "no time of day named")
    if r.weathers:
        extra = " (indoor clips are always clear and dry)" if indoor else ""
        b.put(W + ("condition",), _one_or_choice([w.value for w in r.weathers]),
              f"from {_words(r.weathers)}{extra}")
        for w in r.weathers:
            if w.extra and w.value in lx.STRENGTH_VALUES:
                key, value = lx.STRENGTH_VALUES[w.value][w.extra]
                b.put(W + (key,), value, f"{w.extra}, from '{w.words}'")
    elif not indoor:
        b.default(W + ("condition",), "clear", "no weather named")


def _camera(b: Builder, r: Reading, ignored: list, indoor: bool) -> None:
    C = ("scene", "camera")
    for c, said in r.lengths:
        if _CAMERA_WORDS.search(r.clause_text(c)):
            h = min(60.0, max(0.5, said.value))
            if h != said.value:
                b.warn(f"'{said.words}': camera heights are 0.5 to 60 m; using {h:g}")
            b.put(C + ("height_m",), round(h, 2), f"from '{said.words}'")
        else:
            ignored.append((said.words, "a length, but nothing says it is the camera height "
                                        "(say 'camera at 6 m' or '6 m high')"))
    if b.get(("scene", "layout", "type")) == "plate":
        if r.cameras is not None and r.cameras.value > 1:
            ignored.append((r.cameras.words, "a plate is seen by its one calibrated camera; several cameras "
                                             "need a built-in layout (parking lot, street, indoor)"))
        return                        # a plate's camera comes from its calibration
    for key, value in CAMERA["indoor" if indoor else "outdoor"].items():
        b.default(C + (key,), value, "indoor ceiling camera" if indoor else "pole-mounted CCTV camera")
    spread_cameras(b, r, ignored)


# --- who -------------------------------------------------------------------------------------------

def _count(g: Group, layout: str, density: Said | None) -> tuple[Any, str]:
    limit = 500 if g.type == "person" else 200
    if g.count is None:
        lo, hi = next(((lo, hi) for t, (lo, hi), _ in DEFAULT_GROUPS.get(layout, DEFAULT_GROUPS["parking_lot"])
                       if t == g.type), (1, 3))
        scale = CROWDS.get(density.value if density else None, 1.0)
        lo, hi = round(lo * scale), max(round(hi * scale), 1)
        why = f"scaled for '{density.words}'" if density else "no number given"
        return {"randint": [min(lo, hi), hi]}, f"default ({why}) for '{g.words}'"
    v = g.count.value
    if isinstance(v, dict):
        lo, hi = v["randint"]
        v = {"randint": [min(lo, limit), min(hi, limit)]}
    else:
        v = min(int(v), limit)
    return v, f"from '{g.count.words}'"


def _actors(b: Builder, r: Reading, layout: str, ignored: list) -> None:
    groups = list(r.groups)
    if not groups and b.fresh:
        for t, _, behaviour in DEFAULT_GROUPS.get(layout, DEFAULT_GROUPS["parking_lot"]):
            g = Group(t, "no actors named", -1)
            count, note = _count(g, layout, r.density)
            if count == {"randint": [0, 0]}:
                continue
            b.put(("actors", len(b.get(("actors",)) or [])), {"type": t, "count": count, "behavior": behaviour},
                  None)
            i = len(b.get(("actors",))) - 1
            where = {"parking_lot": "a parking lot", "street": "a street", "indoor": "an indoor scene",
                     "plate": "a plate"}
            b.note(("actors", i, "count"), note.replace("for 'no actors named'", f"for {where.get(layout, 'this')}"))
            b.note(("actors", i, "behavior"), "default: a typical mix")
        return
    for g in groups:
        _group(b, g, layout, r)


def _group(b: Builder, g: Group, layout: str, r: Reading) -> None:
    existing = b.get(("actors",)) or []
    index = None
    if not b.fresh:
        kinds = {k.value for k in g.kinds}
        for i, a in enumerate(existing):
            if isinstance(a, dict) and a.get("type") == g.type and (
                    g.type == "person" or not kinds or (isinstance(a.get("kind"), str) and a["kind"] in kinds)):
                index = i
                break
    path = ("actors", len(existing) if index is None else index)
    if index is None:
        if not isinstance(b.get(("actors",)), list):
            b.put(("actors",), [], None)
        b.put(path, {"type": g.type}, f"from '{g.words}'")
    if g.count is not None or index is None:
        count, note = _count(g, layout, r.density)
        b.put(path + ("count",), count, note)
    kinds = [k.value for k in g.kinds if k.value]
    if kinds:
        b.put(path + ("kind",), _one_or_choice(kinds), f"from {_words(g.kinds)}")
    for flag, said in g.flags.items():
        b.put(path + (flag,), said.value, f"from '{said.words}'")
    if g.behaviours:
        b.put(path + ("behavior",), _one_or_choice([x.value for x in g.behaviours]), f"from {_words(g.behaviours)}")
    elif index is None:
        default = "walk" if g.type == "person" else (
            "parked" if layout == "parking_lot" and "enters" not in g.flags else "drive")
        b.put(path + ("behavior",), default, "default: no behaviour named")


# --- scenarios -------------------------------------------------------------------------------------

def _scenarios(b: Builder, r: Reading, layout: str, ignored: list) -> float:
    """Adds the scenarios; returns the clip seconds they need (0 without any)."""
    planner = ScenarioPlanner(b, layout)
    clause_of = r.scenario_clause
    by_clause: dict[int, list[str]] = {}
    for name in r.scenarios:
        by_clause.setdefault(clause_of.get(name, -1), []).append(name)
    _subjects(r, by_clause)
    need = 0.0
    for name in ORDER:
        said = r.scenarios.get(name)
        if said is None:
            continue
        if name == "wrong_way" and layout == "parking_lot":
            ignored.append((said.words, "parking-lot aisles are two-way; say 'street' (or 'corridor' for people) "
                                        "for wrong-way movement"))
            continue
        if name == "illegal_parking" and layout == "indoor":
            ignored.append((said.words, "no parking indoors; say 'parking lot' or 'street'"))
            continue
        c = clause_of.get(name, -1)
        place = next((p for cc, p in r.places if cc == c), None)
        timed = [n for n in ORDER if n in by_clause.get(c, []) and n in DURATION_FIELD]
        duration = next((d for cc, d in r.durations if cc == c), None) if timed[:1] == [name] else None
        probability = next((p for cc, p in r.frequencies if cc == c), None)
        need = max(need, planner.add(name, said, place, duration, probability))
    used = set(by_clause)
    for c, d in r.durations:           # "for 30 seconds" with no behaviour that lasts: the clip's length
        if c not in used and r.clip_s is None:
            r.clip_s = d
        elif not any(n in DURATION_FIELD for n in by_clause.get(c, [])):
            ignored.append((d.words, "a duration with nothing it could apply to"))
    for c, p in r.frequencies:
        if c not in used:
            ignored.append((p.words, "how often, but no security scenario named in the same part of the sentence"))
    for c, p in r.places:
        if not any(n in by_clause.get(c, []) for n in ("loitering", "intrusion", "crowd")):
            ignored.append((p.words, "a place, but no loitering, intrusion or crowd named with it"))
    return need


def _subjects(r: Reading, by_clause: dict[int, list[str]]) -> None:
    """"a car goes the wrong way", "two people fall": actors that act out a scenario, not a group."""
    keep = []
    for g in r.groups:
        names = by_clause.get(g.clause, [])
        n = g.count.value if g.count is not None else None
        if not names or g.behaviours or not isinstance(n, int):
            keep.append(g)
            continue
        kinds = [k.value for k in g.kinds if k.value]
        target = next((s for s in names if g.type == "person" and s in PERSON_SCENARIOS), None)
        if target is None and g.type == "person" and n == 1:
            target = names[0]            # "someone covers the camera": the one who acts it out
        if g.type == "vehicle":
            target = next((s for s in names if s in ("wrong_way", "illegal_parking", "intrusion")), None)
        if target is None:
            keep.append(g)
            continue
        fields = r.scenarios[target].value
        if n > 1:
            fields["count"] = Said(min(50, n), g.words)
        if target == "wrong_way" and (g.type == "person" or kinds and kinds[0] in ("car", "van", "truck")):
            fields["actor"] = Said("person" if g.type == "person" else kinds[0], g.words)
        if target == "illegal_parking" and kinds and kinds[0] in ("car", "van", "truck"):
            fields["kind"] = Said(kinds[0], g.words)
        if target == "intrusion" and g.type == "vehicle":
            fields["actor"] = Said("car", g.words)
    r.groups = keep


# --- output and identity ---------------------------------------------------------------------------

def _output(b: Builder, r: Reading, need_s: float) -> None:
    out = ("output",)
    fps = b.get(out + ("fps",)) or DEFAULT_FPS
    b.default(out + ("clips",), DEFAULT_CLIPS, "no dataset size named")
    if r.clip_s is not None:
        frames = max(1, round(r.clip_s.value * fps))
        if frames > MAX_FRAMES:
            b.warn(f"'{r.clip_s.words}' at {fps:g} fps is more than {MAX_FRAMES:,} frames; using {MAX_FRAMES:,}")
            frames = MAX_FRAMES
        b.put(out + ("frames_per_clip",), frames, f"{r.clip_s.value:g} s at {fps:g} fps, from '{r.clip_s.words}'")
        if need_s and r.clip_s.value < need_s:
            b.warn(f"'{r.clip_s.words}' is shorter than the {need_s:g} s the scenarios need to play out; "
                   f"their events may not be complete")
    elif r.frames is not None:
        b.put(out + ("frames_per_clip",), r.frames.value, f"from '{r.frames.words}'")
    elif b.fresh or (need_s and (b.get(out + ("frames_per_clip",)) or 0) < need_s * fps):
        seconds = max(DEFAULT_CLIP_S, need_s)
        why = f"{seconds:g} s, long enough for the scenarios" if need_s else f"{seconds:g} s clips"
        b.put(out + ("frames_per_clip",), min(MAX_FRAMES, round(seconds * fps)), f"default: {why}")
    if r.total_s is not None:
        frames = b.get(out + ("frames_per_clip",))
        clips = max(1, round(r.total_s.value * fps / frames))
        b.put(out + ("clips",), clips, f"{clips} clips of {frames / fps:g} s, from '{r.total_s.words}'")
    clips = b.get(out + ("clips",))
    if b.fresh:
        b.put(out + ("clips_per_shard",), min(16, max(1, clips // 2)), "default: clips per Dask task")
    b.default(out + ("fps",), DEFAULT_FPS, "no frame rate named")
    if b.plate_size is not None:
        _plate_resolution(b, b.plate_size)
    b.default(out + ("resolution",), list(DEFAULT_RESOLUTION), "no resolution named")


def _plate_resolution(b: Builder, size: tuple[int, int]) -> None:
    """A plate is composited at its own aspect: the plate's size, or the said height at that aspect."""
    W, H = size
    said = b.get(("output", "resolution"))
    if said is None:
        b.put(("output", "resolution"), [W - W % 2, H - H % 2], "default: the plate's own size")
        return
    w, h = said
    if abs(w / h - W / H) > 0.01 * W / H:
        w = round(h * W / H / 2) * 2
        b.put(("output", "resolution"), [w, h], f"{said[0]}x{said[1]} at the plate's aspect ({W}x{H})")
        b.warn(f"resolution {said[0]}x{said[1]} has another shape than the plate ({W}x{H}); using {w}x{h}")


def _identity(b: Builder, r: Reading, layout: str) -> None:
    parts = [layout]
    lighting = b.get(("scene", "lighting", "time_of_day"))
    if isinstance(lighting, str) and lighting != "day":
        parts.append(lighting)
    weather = b.get(("scene", "weather", "condition"))
    if isinstance(weather, str) and weather != "clear":
        parts.append(weather)
    parts += [n for n in ORDER if n in (b.get(("scenario",)) or {})]
    name = "_".join(parts)[:64]
    b.put(("version",), 1, None)
    b.put(("name",), name, "from the site, time, weather and scenarios")
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in r.text).split())
    b.put(("description",), text if len(text) <= 300 else text[:297] + "...", None)
    if "seed" not in {p[0] for p in r.settings}:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")
        b.put(("seed",), seed, "default: derived from the text (the same text gives the same recipe)")


def _prune(node: Any) -> Any:
    """Drop the empty places of the fresh skeleton (None, {} and [] values of mappings)."""
    if isinstance(node, dict):
        out = {k: _prune(v) for k, v in node.items()}
        return {k: v for k, v in out.items() if v is not None and v != {} and v != []}
    return node
