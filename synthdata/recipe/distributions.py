"""The distribution grammar: anywhere a recipe value may vary.

    3.5                               a constant
    {uniform: [a, b]}                 float in [a, b)
    {normal: [mu, sigma]}             float; {normal: [mu, sigma], clip: [lo, hi]} to bound it
    {randint: [a, b]}                 integer in [a, b], both ends included
    {poisson: lam}                    integer >= 0
    {bernoulli: p}                    true with probability p (yes/no fields only)
    {choice: [x, y, z]}               one of the values, equally likely
    {choice: {day: 0.6, night: 0.4}}  weighted choice (weights need not sum to 1)

`Dist.sample(rng)` draws with a numpy Generator passed in by the caller (never a global RNG).
`Dist.to_yaml()` gives back the recipe text form, so parsing it again gives an equal Dist.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml

NUMBER_HINT = "a number or a distribution such as {uniform: [1, 2]} or {normal: [0, 1]}"
INTEGER_HINT = "a whole number or a distribution such as {randint: [1, 5]} or {poisson: 4}"
KINDS = ("uniform", "normal", "randint", "poisson", "bernoulli", "choice")


class DistError(ValueError):
    """Raised for a malformed distribution; the message says what was expected."""


def show_value(v: Any) -> str:
    """A user's value as it would appear in a recipe: 'many', 3, {poisson: 4}, [1, 2], null."""
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, Dist):
        v = v.to_yaml()
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    try:
        text = yaml.safe_dump(v, default_flow_style=True, width=10**6, sort_keys=False).strip()
    except yaml.YAMLError:
        return repr(v)
    return text[:-4].rstrip() if text.endswith("\n...") else text


@dataclass(frozen=True)
class Dist:
    """A constant or a distribution over recipe values (see the module docstring)."""

    kind: str                      # const | uniform | normal | randint | poisson | bernoulli | choice
    args: tuple = ()
    weights: tuple | None = None   # choice weights as written (not normalised); None = equally likely
    clip: tuple | None = None      # normal: optional [lo, hi]

    @property
    def probabilities(self) -> tuple[float, ...] | None:
        """Normalised choice weights (None when the values are equally likely)."""
        if self.weights is None:
            return None
        s = float(sum(self.weights))
        return tuple(w / s for w in self.weights)

    def sample(self, rng: np.random.Generator) -> Any:
        k, a = self.kind, self.args
        if k == "const":
            return a[0]
        if k == "uniform":
            return float(rng.uniform(a[0], a[1]))
        if k == "normal":
            x = float(rng.normal(a[0], a[1]))
            return float(np.clip(x, *self.clip)) if self.clip else x
        if k == "randint":
            return int(rng.integers(a[0], a[1], endpoint=True))
        if k == "poisson":
            return int(rng.poisson(a[0]))
        if k == "bernoulli":
            return bool(rng.random() < a[0])
        if k == "choice":
            p = self.probabilities
            i = int(rng.choice(len(a), p=p)) if p else int(rng.integers(len(a)))
            return a[i]
        raise AssertionError(k)

    def bounds(self) -> tuple[float, float] | None:
        """Smallest and largest value this can produce (None when unbounded or not numeric)."""
        k, a = self.kind, self.args
        if k == "const" and _is_number(a[0]):
            return (a[0], a[0])
        if k in ("uniform", "randint"):
            return (a[0], a[1])
        if k == "normal" and self.clip:
            return self.clip
        if k == "choice" and all(_is_number(x) for x in a):
            return (min(a), max(a))
        return None

    def mean(self) -> float | None:
        """Expected value (None when not numeric). A clipped normal reports its unclipped mean."""
        k, a = self.kind, self.args
        if k in ("uniform", "randint"):
            return (a[0] + a[1]) / 2
        if k in ("normal", "poisson", "bernoulli"):
            return float(a[0])
        if k == "const" and _is_number(a[0]):
            return float(a[0])
        if k == "choice" and all(_is_number(x) for x in a):
            w = self.probabilities or (1 / len(a),) * len(a)
            return float(sum(x * p for x, p in zip(a, w)))
        return None

    def to_yaml(self) -> Any:
        """The recipe form: a plain value or a one-key mapping such as {poisson: 4.0}."""
        k, a = self.kind, self.args
        if k == "const":
            return a[0]
        if k in ("poisson", "bernoulli"):
            return {k: a[0]}
        if k == "choice":
            if self.weights is not None:
                return {"choice": dict(zip(a, self.weights))}
            return {"choice": list(a)}
        out: dict[str, Any] = {k: list(a)}
        if self.clip:
            out["clip"] = list(self.clip)
        return out


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _num(x: Any, what: str) -> float:
    if not _is_number(x):
        raise DistError(f"{what}: expected a number, got {show_value(x)}")
    if not math.isfinite(x):
        raise DistError(f"{what}: expected a finite number, got {show_value(x)}")
    return float(x)


def _pair(v: Any, name: str) -> tuple[float, float]:
    if not isinstance(v, (list, tuple)) or len(v) != 2:
        raise DistError(f"{{{name}: ...}} expects a list of two numbers such as [1, 2], got {show_value(v)}")
    return _num(v[0], name), _num(v[1], name)


def _whole(x: Any, what: str) -> int:
    f = _num(x, what)
    if f != int(f):
        raise DistError(f"{what}: expected a whole number, got {show_value(x)}")
    return int(f)


def parse_number(value: Any, *, integer: bool = False, minimum: float | None = None,
                 maximum: float | None = None) -> Dist:
    """A constant number or a numeric distribution; checks that every outcome is in range.

    Integer fields accept whole numbers, randint, poisson and choice over whole numbers; their
    values are ints. Float fields hold floats.
    """
    if isinstance(value, Dist):
        return value
    hint = INTEGER_HINT if integer else NUMBER_HINT
    if _is_number(value):
        if not math.isfinite(value):
            raise DistError(f"expected a finite number, got {show_value(value)}")
        if integer and value != int(value):
            raise DistError(f"expected {hint}, got {show_value(value)}")
        d = Dist("const", (int(value) if integer else float(value),))
    elif isinstance(value, dict):
        d = _parse_dict(value)
        if d.kind == "bernoulli":
            raise DistError(f"expected {hint}, got {{bernoulli: ...}} (that is for yes/no fields)")
        if d.kind == "choice":
            conv = (lambda x: _whole(x, "choice")) if integer else (lambda x: _num(x, "choice"))
            keys = d.args if d.weights is None else tuple(_numeric_key(x) for x in d.args)
            d = Dist("choice", tuple(conv(x) for x in keys), d.weights)
        if integer and d.kind in ("uniform", "normal"):
            raise DistError(f"expected {hint}, got {show_value(value)} (which gives fractions)")
    else:
        raise DistError(f"expected {hint}, got {show_value(value)}")
    b = d.bounds()
    if d.kind == "const":
        if minimum is not None and b[0] < minimum:
            raise DistError(f"expected a number >= {minimum:g}, got {show_value(value)}")
        if maximum is not None and b[1] > maximum:
            raise DistError(f"expected a number <= {maximum:g}, got {show_value(value)}")
    elif b is not None:
        if minimum is not None and b[0] < minimum:
            raise DistError(f"values must be >= {minimum:g}, but {show_value(value)} can give {b[0]:g}")
        if maximum is not None and b[1] > maximum:
            raise DistError(f"values must be <= {maximum:g}, but {show_value(value)} can give {b[1]:g}")
    elif d.kind == "poisson" and minimum is not None and minimum > 0:
        raise DistError(f"values must be >= {minimum:g}, but {{poisson: ...}} can give 0")
    elif d.kind == "normal" and (minimum is not None or maximum is not None):
        raise DistError("a normal distribution here needs a clip range, e.g. "
                        "{normal: [mu, sigma], clip: [lo, hi]}")
    return d


def _numeric_key(x: Any) -> Any:
    """Weighted-map keys may be numbers written as text (JSON has only string keys)."""
    if isinstance(x, str):
        try:
            return float(x) if any(c in x for c in ".eE") else int(x)
        except ValueError:
            return x
    return x


def parse_choice(value: Any, allowed: tuple[str, ...] | None = None) -> Dist:
    """A constant string or {choice: ...} over strings; each must be one of `allowed`."""
    if isinstance(value, Dist):
        return value
    if isinstance(value, str):
        d = Dist("const", (value,))
    elif isinstance(value, dict):
        d = _parse_dict(value)
        if d.kind != "choice":
            raise DistError(f"expected one of {_fmt(allowed)} or {{choice: [...]}}, got {{{d.kind}: ...}}")
    else:
        raise DistError(f"expected one of {_fmt(allowed)} or {{choice: [...]}}, got {show_value(value)}")
    for x in d.args:
        if allowed is not None and x not in allowed:
            raise DistError(f"expected one of {_fmt(allowed)}, got {show_value(x)}")
        if allowed is None and not isinstance(x, str):
            raise DistError(f"expected a string, got {show_value(x)}")
    return d


def parse_bool(value: Any) -> Dist:
    """true/false, a probability {bernoulli: p} or {choice: [true, false]} (optionally weighted)."""
    if isinstance(value, Dist):
        return value
    if isinstance(value, bool):
        return Dist("const", (value,))
    if isinstance(value, dict):
        d = _parse_dict(value)
        if d.kind == "bernoulli" or (d.kind == "choice" and all(isinstance(x, bool) for x in d.args)):
            return d
    raise DistError(f"expected true, false or {{bernoulli: p}}, got {show_value(value)}")


def _fmt(allowed: tuple[str, ...] | None) -> str:
    return "a string" if allowed is None else ", ".join(allowed)


def _parse_dict(value: dict) -> Dist:
    keys = set(value)
    if "normal" in keys and keys <= {"normal", "clip"}:
        mu, sigma = _pair(value["normal"], "normal")
        if sigma < 0:
            raise DistError(f"{{normal: [mu, sigma]}} needs sigma >= 0, got {sigma:g}")
        clip = _pair(value["clip"], "clip") if "clip" in value else None
        if clip and clip[0] > clip[1]:
            raise DistError(f"clip: [lo, hi] needs lo <= hi, got {show_value(value['clip'])}")
        return Dist("normal", (mu, sigma), clip=clip)
    if len(keys) != 1:
        raise DistError(f"a distribution has exactly one of {', '.join(KINDS)}; "
                        f"got {show_value(value)}")
    (k, v), = value.items()
    if k == "uniform":
        a, b = _pair(v, k)
        if a > b:
            raise DistError(f"{{uniform: [a, b]}} needs a <= b, got {show_value(v)}")
        return Dist("uniform", (a, b))
    if k == "randint":
        a, b = _pair(v, k)
        if a != int(a) or b != int(b) or a > b:
            raise DistError(f"{{randint: [a, b]}} needs whole numbers a <= b, got {show_value(v)}")
        return Dist("randint", (int(a), int(b)))
    if k == "poisson":
        lam = _num(v, "poisson")
        if lam < 0:
            raise DistError(f"{{poisson: lam}} needs lam >= 0, got {lam:g}")
        return Dist("poisson", (lam,))
    if k == "bernoulli":
        p = _num(v, "bernoulli")
        if not 0 <= p <= 1:
            raise DistError(f"{{bernoulli: p}} needs 0 <= p <= 1, got {p:g}")
        return Dist("bernoulli", (p,))
    if k == "choice":
        if isinstance(v, list) and v:
            return Dist("choice", tuple(v))
        if isinstance(v, dict) and v:
            ws = tuple(_num(w, "choice weight") for w in v.values())
            if any(w < 0 for w in ws) or sum(ws) <= 0:
                raise DistError("{choice: {value: weight}} needs non-negative weights with a positive sum")
            return Dist("choice", tuple(v.keys()), weights=ws)
        raise DistError(f"{{choice: ...}} expects a non-empty list or a {{value: weight}} map, "
                        f"got {show_value(v)}")
    raise DistError(f"unknown distribution {k!r}; expected one of {', '.join(KINDS)}")


def sampler(rng: np.random.Generator) -> Callable[[Any], Any]:
    """`draw = sampler(rng); draw(recipe.scene.camera.height_m)` samples Dists, passes plain values."""
    def draw(v: Any) -> Any:
        return v.sample(rng) if isinstance(v, Dist) else v
    return draw
