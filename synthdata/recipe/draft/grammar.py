"""Reading English: tokens, numbers and units, and the phrase rules of the draft grammar.

`read(text)` returns a `Reading`: what the sentence said (each value with the words that said
it) and the words it could not use. It decides nothing about recipe structure; mapping.py does.
Rules run in a fixed order over a token list; each match consumes its tokens, so a word is used
once ("falling snow" is weather before "falling" can be a fall). Clauses are split at , ; . so
"for 30 seconds" or "sometimes" attach to the behaviour named in the same clause.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, get_args

from synthdata.recipe.draft import lexicon as lx
from synthdata.recipe.draft import scenario_rules  # noqa: F401 - appends its rules after rules.py's
from synthdata.recipe.draft.rules import RULES, Said
from synthdata.recipe.security import ScenarioSpec

__all__ = ["Reading", "Said", "Group", "read"]

_ONES = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve "
                                    "thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_KEEP_SUFFIX = re.compile(r"\d+(p|k)")           # 720p, 4k: resolution words
_TOKEN = re.compile(r"\d+(?:\.\d+)?x\d+|\d+(?:\.\d+)?[a-z]*|[a-z]+|[,;.!?:()]")


@dataclass
class Group:
    """A group of actors the text named: "about 20 people walking", "3 parked cars"."""

    type: str                               # person | vehicle
    words: str
    clause: int
    count: Said | None = None
    kinds: list[Said] = field(default_factory=list)        # vehicle kinds named
    behaviours: list[Said] = field(default_factory=list)
    flags: dict[str, Said] = field(default_factory=dict)      # enters / leaves: True


@dataclass
class Reading:
    """Everything one text said. Values are `Said(value, words)`; `ignored` lists (word, why)."""

    text: str
    settings: dict[tuple, Said] = field(default_factory=dict)   # recipe path -> value, said directly
    sites: list[Said] = field(default_factory=list)
    plate: Said | None = None
    times: list[Said] = field(default_factory=list)
    weathers: list[Said] = field(default_factory=list)          # condition, with .extra strength
    groups: list[Group] = field(default_factory=list)
    scenarios: dict[str, Said] = field(default_factory=dict)    # name -> Said(fields dict, words)
    clip_s: Said | None = None
    frames: Said | None = None
    total_s: Said | None = None
    density: Said | None = None                                 # busy | quiet | empty
    cameras: Said | None = None                                 # how many cameras ("two cameras")
    features: dict[str, Said] = field(default_factory=dict)     # layout field -> value (extra: layouts)
    ignored: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)              # things worth telling the user
    # clause-attached facts, resolved by `_attach`
    durations: list[tuple[int, Said]] = field(default_factory=list)
    lengths: list[tuple[int, Said]] = field(default_factory=list)
    places: list[tuple[int, Said]] = field(default_factory=list)
    frequencies: list[tuple[int, Said]] = field(default_factory=list)
    scenario_clause: dict[str, int] = field(default_factory=dict)
    clauses: dict[int, str] = field(default_factory=dict)       # clause index -> its words

    def clause_text(self, c: int) -> str:
        return self.clauses.get(c, "")


class Tokens:
    """Lower-case tokens with the clause each belongs to and whether a rule has used it."""

    def __init__(self, words: list[str]):
        self.words: list[str] = []
        self.clause: list[int] = []
        c = 0
        for w in words:
            if w in ",;.!?:()":
                c += 1
                continue
            self.words.append(w)
            self.clause.append(c)
        self.used = [False] * len(self.words)
        self.joined = " ".join(self.words)
        self.starts, pos = [], 0
        for w in self.words:
            self.starts.append(pos)
            pos += len(w) + 1

    def span(self, a: int, b: int) -> tuple[int, int]:
        """Token indices [i, j) covered by characters [a, b) of `joined`."""
        i = next(k for k, s in enumerate(self.starts) if s + len(self.words[k]) > a)
        j = max(k for k, s in enumerate(self.starts) if s < b) + 1
        return i, j

    def free(self, i: int, j: int) -> bool:
        return not any(self.used[i:j])

    def use(self, i: int, j: int) -> None:
        for k in range(i, j):
            self.used[k] = True


def tokenize(text: str) -> list[str]:
    """Words, numbers (number words become digits) and clause marks, lower case."""
    t = unicodedata.normalize("NFKC", text).lower()
    t = re.sub(r"(\d)\s*[-–]\s*(\d)", r"\1 to \2", t)          # 10-15 -> 10 to 15
    t = (t.replace("°", " deg ").replace("~", " about ").replace("%", " percent ").replace("&", " and ")
         .replace("'s ", " ").replace("’s ", " ").replace("one-way", "oneway").replace("one way", "oneway")
         .replace("-", " ").replace("/", " "))
    t = re.sub(r"(\d),(\d{3})\b", r"\1\2", t)                 # 1,000 -> 1000
    raw: list[str] = []
    for tok in _TOKEN.findall(t):
        m = re.fullmatch(r"(\d+(?:\.\d+)?)([a-z]+)", tok)
        if m and not _KEEP_SUFFIX.fullmatch(tok):
            raw += [m.group(1), m.group(2)]                    # 8m -> 8 m, 30s -> 30 s
        else:
            raw.append(tok)
    return _numbers(raw)


def _numbers(words: list[str]) -> list[str]:
    """'twenty five' -> '25', 'a dozen' -> '12', 'half a minute' -> '30 seconds', 'a hundred' -> '100'."""
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w == "half" and nxt in ("a", "an") and i + 2 < len(words) and words[i + 2] in ("minute", "hour"):
            out += ["30", "seconds" if words[i + 2] == "minute" else "minutes"]
            i += 3
            continue
        if w in ("a", "an") and nxt in ("minute", "hour", "dozen", "hundred", "thousand"):
            out.append({"minute": "1", "hour": "1", "dozen": "12", "hundred": "100", "thousand": "1000"}[nxt])
            if nxt in ("minute", "hour"):
                out.append(nxt)
            i += 2
            continue
        if w in _ONES or w in _TENS or (w == "dozen" and out and out[-1].isdigit()):
            n = _ONES.get(w, _TENS.get(w, 0))
            i += 1
            if w in _TENS and i < len(words) and words[i] in _ONES and _ONES[words[i]] < 10:
                n += _ONES[words[i]]
                i += 1
            while i < len(words) and words[i] in ("hundred", "thousand", "dozen"):
                n *= {"hundred": 100, "thousand": 1000, "dozen": 12}[words[i]]
                i += 1
            out.append(str(n))
            continue
        if w in ("hundred", "thousand") and out and out[-1].isdigit():
            out[-1] = str(int(out[-1]) * (100 if w == "hundred" else 1000))
            i += 1
            continue
        out.append(w)
        i += 1
    return out


_PLATE = re.compile(r"\b(?:plate|footage|background)\s+(?:at|from|in|dir|directory|folder)?\s*"
                    r"((?:~|\.{1,2})?/[^\s,;]+|[\w.-]+/[^\s,;]*)")


def read(text: str) -> Reading:
    """Read one English description (see the module docstring)."""
    r = Reading(text=text)
    m = _PLATE.search(text)
    if m:
        r.plate = Said(m.group(1).rstrip("."), m.group(0).strip())
        text = text[:m.start()] + " " + text[m.end():]
    tokens = Tokens(tokenize(text))
    for w, c in zip(tokens.words, tokens.clause):
        r.clauses[c] = f"{r.clauses.get(c, '')} {w}".strip()
    for pattern, handler in RULES:
        for m in pattern.finditer(tokens.joined):
            i, j = tokens.span(m.start(), m.end())
            if not tokens.free(i, j):
                continue
            if handler(r, m, tokens.clause[i]) is not False:
                tokens.use(i, j)
    _actors(r, tokens)
    _leftovers(r, tokens)
    return r


# --- actors: quantity + adjectives + noun + behaviour participles -----------------------------------

_QTY_PHRASES = sorted(lx.QUANTITIES, key=lambda p: -len(p.split()))


def _actors(r: Reading, t: Tokens) -> None:
    nouns = sorted(lx.ACTORS, key=lambda p: -len(p.split()))
    k = 0
    while k < len(t.words):
        hit = next((n for n in nouns if _at(t, k, n)), None)
        if hit is None:
            k += 1
            continue
        n_len = len(hit.split())
        actor, kind, implied = lx.ACTORS[hit]
        a = k
        adjectives: list[Said] = []
        b = k - 1                                   # look back over adjectives
        while b >= 0 and not t.used[b] and t.clause[b] == t.clause[k] and t.words[b] in lx.BEHAVIOURS \
                and lx.BEHAVIOURS[t.words[b]][0] == actor:
            adjectives.append(Said(lx.BEHAVIOURS[t.words[b]][1], t.words[b]))
            a = b
            b -= 1
        count, a = _quantity(t, a, t.clause[k])
        if count is None and hit in ("someone", "somebody"):
            count = Said(1, hit)
        g = Group(actor, "", t.clause[k], count)
        if kind:
            g.kinds.append(Said(kind, hit))
        if implied:
            g.behaviours.append(Said(implied, hit))
        g.behaviours += adjectives
        e = _look_ahead(t, k + n_len, t.clause[k], g)
        g.words = " ".join(t.words[a:e])
        t.use(a, k + n_len)
        if hit in lx.SCENARIO_NOUNS:
            _scenario_noun(r, lx.SCENARIO_NOUNS[hit], g)
        else:
            r.groups.append(g)
        k = e


_NOUN_WORDS = {p.split()[0] for p in lx.ACTORS}


def _look_ahead(t: Tokens, e: int, clause: int, g: Group) -> int:
    """Behaviours and enter/leave words after a group's noun ("people walking in and leaving");
    stop words in between are skipped, another actor noun ends the look. Returns the end index."""
    end, limit = e, min(len(t.words), e + 8)
    bags = sorted(lx.BAGS, key=lambda p: -len(p.split()))
    while e < limit and t.clause[e] == clause:
        bag = next((p for p in bags if g.type == "person" and _at(t, e, p)), None)
        if bag is not None:
            g.flags["carries_bag"] = Said(True, bag)
            if lx.BAGS[bag]:
                g.flags["bag_style"] = Said(lx.BAGS[bag], bag)
            t.use(e, e + len(bag.split()))
            e = end = e + len(bag.split())
            continue
        if t.used[e]:                         # words another rule used ("around the lot"): step over
            e += 1
            continue
        two = " ".join(t.words[e:e + 2])
        word = next((w for w in (two, t.words[e]) if w in lx.ENTERS_LEAVES or w in lx.BEHAVIOURS), None)
        if word in lx.ENTERS_LEAVES and (g.type == "person" or lx.ENTERS_LEAVES[word] == "enters"):
            g.flags[lx.ENTERS_LEAVES[word]] = Said(True, word)
        elif word in lx.BEHAVIOURS and lx.BEHAVIOURS[word][0] == g.type:
            g.behaviours.append(Said(lx.BEHAVIOURS[word][1], word))
        elif t.words[e] in _NOUN_WORDS or t.words[e] not in lx.STOP | {"then"}:
            break
        else:
            e += 1
            continue
        n = len(word.split())
        t.use(e, e + n)
        e += n
        end = e
    return end


def _at(t: Tokens, k: int, phrase: str) -> bool:
    parts = phrase.split()
    return t.words[k:k + len(parts)] == parts and t.free(k, k + len(parts))


def _quantity(t: Tokens, a: int, clause: int) -> tuple[Said | None, int]:
    """The count written before token `a` ("about 20", "3 to 5", "a few"), and where it starts."""
    def free(i: int) -> bool:
        return 0 <= i and not t.used[i] and t.clause[i] == clause
    words = t.words
    if free(a - 1) and re.fullmatch(r"\d+", words[a - 1]):
        n, s = int(words[a - 1]), a - 1
        if free(s - 2) and words[s - 1] in ("to", "or", "and") and re.fullmatch(r"\d+", words[s - 2]):
            lo, s = int(words[s - 2]), s - 2
            if free(s - 1) and words[s - 1] == "between":
                s -= 1
            return Said({"randint": sorted([lo, n])}, " ".join(words[s:a])), s
        for group, make in ((lx.APPROX, lambda: {"randint": [max(0, round(n * 0.75)), max(1, round(n * 1.25))]}),
                            (lx.AT_MOST, lambda: {"randint": [max(0, n // 2), n]}),
                            (lx.AT_LEAST, lambda: {"randint": [n, max(n + 1, round(n * 1.5))]})):
            for p in group:
                ln = len(p.split())
                if all(free(s - ln + q) for q in range(ln)) and words[s - ln:s] == p.split():
                    return Said(make(), " ".join(words[s - ln:a])), s - ln
        return Said(n, words[a - 1]), a - 1
    for p in _QTY_PHRASES:
        ln = len(p.split())
        if all(free(a - ln + q) for q in range(ln)) and words[a - ln:a] == p.split():
            return Said(lx.QUANTITIES[p], p), a - ln
    return None, a


def _scenario_noun(r: Reading, name: str, g: Group) -> None:
    fields: dict[str, Any] = {}
    if (isinstance(g.count, Said) and isinstance(g.count.value, int) and g.count.value > 1
            and _has_count(name)):          # "a couple of vandals": a tamper has no count
        fields["count"] = Said(min(50, g.count.value), g.count.words)
    old = r.scenarios.get(name)
    if old is None:
        r.scenarios[name] = Said(fields, g.words)
        r.scenario_clause[name] = g.clause
    else:
        old.value.update(fields)


def _has_count(name: str) -> bool:
    """Whether scenario `name` takes a `count` (the scripted behaviours do; a camera tamper not)."""
    spec = next(a for a in get_args(ScenarioSpec.model_fields[name].annotation) if a is not type(None))
    return "count" in spec.model_fields


# --- what was left over ----------------------------------------------------------------------------

def _vocabulary() -> list[str]:
    words: set[str] = set()
    for table in (lx.SITES, lx.TIMES, lx.WEATHER, lx.ACTORS, lx.BEHAVIOURS, lx.STRENGTH, lx.FREQUENCY):
        for phrase in table:
            words.update(phrase.split())
    words.update(("loitering", "intrusion", "abandoned", "bag", "fall", "crowd", "wrong", "way", "illegal",
                  "parking", "tampering", "tripwire", "fisheye", "ptz", "fps", "tilt", "resolution"))
    return sorted(w for w in words if len(w) > 3)


def _leftovers(r: Reading, t: Tokens) -> None:
    vocab = _vocabulary()
    for k, w in enumerate(t.words):
        if t.used[k] or w in lx.STOP or (len(w) < 2 and not w.isdigit()):
            continue
        t.used[k] = True
        if w in lx.UNSUPPORTED:
            hint = lx.UNSUPPORTED[w]
            r.ignored.append((w, f"no such {'actor' if 'vehicle' in hint or hint == 'person' else 'thing'} "
                                 f"in synthdata; nearest: {hint}"))
        elif w in lx.BEHAVIOURS:
            r.ignored.append((w, "a behaviour with no people or vehicles named next to it"))
        elif re.fullmatch(r"\d+(\.\d+)?", w):
            r.ignored.append((w, "a number with nothing it could count or measure next to it"))
        else:
            near = difflib.get_close_matches(w, vocab, n=1, cutoff=0.8)
            if near and near[0] == w:
                r.ignored.append((w, "a known word, but nothing next to it that it could apply to"))
            else:
                r.ignored.append((w, f"not understood; did you mean '{near[0]}'?" if near else "not understood"))
