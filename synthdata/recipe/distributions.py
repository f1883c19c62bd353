"""The distribution grammar: anywhere a recipe value may vary.

    3.5                               a constant
    {uniform: [a, b]}                 float in [a, b)
    {normal: [mu, sigma]}             float; {normal: [mu, sigma], clip: [lo, hi]} to bound it
    {randint: [a, b]}                 integer in [a, b], both ends included
    {poisson: lam}                    integer >= 0
    {choice: [x, y, z]}               one of the values, equally likely
    {choice: {day: 0.6, night: 0.4}}  weighted choice (weights need not sum to 1)

`Dist.sample(rng)` draws with a numpy Generator passed in by the caller (never a global RNG).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

NUMBER_HINT = "a number or a distribution such as {uniform: [1, 2]}, {normal: [0, 1]}, {randint: [1, 5]}, {poisson: 4}"


class DistError(ValueError):
    """Raised for a malformed distribution; the message says what was expected."""


@dataclass(frozen=True)
class Dist:
    kind: str                      # const | uniform | normal | randint | poisson | choice
    args: tuple = ()
    weights: tuple | None = None   # choice weights, normalised
    clip: tuple | None = None      # normal: optional [lo, hi]

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
        if k == "choice":
            i = int(rng.choice(len(a), p=self.weights)) if self.weights else int(rng.integers(len(a)))
            return a[i]
        raise AssertionError(k)

    def bounds(self) -> tuple[float, float] | None:
        """Smallest and largest value this can produce (None when unbounded or not numeric)."""
        k, a = self.kind, self.args
        if k == "const" and isinstance(a[0], (int, float)) and not isinstance(a[0], bool):
            return (a[0], a[0])
        if k in ("uniform", "randint"):
            return (a[0], a[1])
        if k == "normal" and self.clip:
            return self.clip
        if k == "choice" and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in a):
            return (min(a), max(a))
        return None

    def mean(self) -> float | None:
        k, a = self.kind, self.args
        if k in ("uniform", "randint"):
            return (a[0] + a[1]) / 2
        if k in ("normal", "poisson"):
            return float(a[0])
        if k == "const" and isinstance(a[0], (int, float)):
            return float(a[0])
        if k == "choice" and all(isinstance(x, (int, float)) for x in a):
            w = self.weights or (1 / len(a),) * len(a)
            return float(sum(x * p for x, p in zip(a, w)))
        return None

    def to_yaml(self) -> Any:
        k, a = self.kind, self.args
        if k == "const":
            return a[0]
        if k == "choice":
            if self.weights:
                return {"choice": {str(x): float(w) for x, w in zip(a, self.weights)}}
            return {"choice": list(a)}
        if k == "poisson":
            return {"poisson": a[0]}
        out = {k: list(a)}
        if self.clip:
            out["clip"] = list(self.clip)
        return out


def _num(x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise DistError(f"{what}: expected a number, got {x!r}")
    return float(x)


def _pair(v: Any, name: str) -> tuple[float, float]:
    if not isinstance(v, (list, tuple)) or len(v) != 2:
        raise DistError(f"{{{name}: ...}} expects a list of two numbers such as [1, 2], got {v!r}")
    return _num(v[0], name), _num(v[1], name)


def parse_number(value: Any, *, integer: bool = False, minimum: float | None = None,
                 maximum: float | None = None) -> Dist:
    """A constant number or a numeric distribution; checks that every outcome is in range."""
    if isinstance(value, Dist):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, (str, list)):
        raise DistError(f"expected {NUMBER_HINT}, got {value!r}")
    if isinstance(value, (int, float)):
        if integer and float(value) != int(value):
            raise DistError(f"expected a whole number, got {value!r}")
        d = Dist("const", (int(value) if integer else float(value),))
    elif isinstance(value, dict):
        d = _parse_dict(value)
        if d.kind == "choice":
            for x in d.args:
                _num(x, "choice")
        if integer and d.kind in ("uniform", "normal"):
            raise DistError(f"expected a whole number or an integer distribution ({{randint: [a, b]}}, "
                            f"{{poisson: lam}}, {{choice: [...]}}), got {{{d.kind}: ...}}")
    else:
        raise DistError(f"expected {NUMBER_HINT}, got {value!r}")
    b = d.bounds()
    if b is not None:
        if minimum is not None and b[0] < minimum:
            raise DistError(f"values must be >= {minimum:g}, but {d.to_yaml()!r} can give {b[0]:g}")
        if maximum is not None and b[1] > maximum:
            raise DistError(f"values must be <= {maximum:g}, but {d.to_yaml()!r} can give {b[1]:g}")
    elif d.kind == "poisson" and minimum is not None and minimum > 0:
        raise DistError(f"values must be >= {minimum:g}, but {{poisson: ...}} can give 0")
    elif d.kind == "normal" and (minimum is not None or maximum is not None):
        raise DistError("a normal distribution here needs a clip range, e.g. {normal: [mu, sigma], clip: [lo, hi]}")
    return d


def parse_choice(value: Any, allowed: tuple[str, ...] | None = None) -> Dist:
    """A constant string or {choice: ...} over strings; each must be one of `allowed`."""
    if isinstance(value, Dist):
        return value
    if isinstance(value, str):
        d = Dist("const", (value,))
    elif isinstance(value, dict):
        d = _parse_dict(value)
        if d.kind not in ("choice", "const"):
            raise DistError(f"expected one of {_fmt(allowed)} or {{choice: [...]}}, got {{{d.kind}: ...}}")
    else:
        raise DistError(f"expected one of {_fmt(allowed)} or {{choice: [...]}}, got {value!r}")
    if allowed is not None:
        for x in d.args:
            if x not in allowed:
                raise DistError(f"expected one of {_fmt(allowed)}, got {x!r}")
    return d


def parse_bool(value: Any) -> Dist:
    """true/false, a probability {bernoulli: p} or {choice: [true, false]}."""
    if isinstance(value, Dist):
        return value
    if isinstance(value, bool):
        return Dist("const", (value,))
    if isinstance(value, dict) and set(value) == {"bernoulli"}:
        p = _num(value["bernoulli"], "bernoulli")
        if not 0 <= p <= 1:
            raise DistError(f"{{bernoulli: p}} needs 0 <= p <= 1, got {p}")
        return Dist("choice", (True, False), weights=(p, 1 - p))
    if isinstance(value, dict):
        d = _parse_dict(value)
        if d.kind == "choice" and all(isinstance(x, bool) for x in d.args):
            return d
    raise DistError(f"expected true, false or {{bernoulli: p}}, got {value!r}")


def _fmt(allowed: tuple[str, ...] | None) -> str:
    return "a string" if allowed is None else ", ".join(repr(a) for a in allowed)


def _parse_dict(value: dict) -> Dist:
    keys = set(value)
    if "normal" in keys and keys <= {"normal", "clip"}:
        mu, sigma = _pair(value["normal"], "normal")
        if sigma < 0:
            raise DistError(f"{{normal: [mu, sigma]}} needs sigma >= 0, got {sigma}")
        clip = _pair(value["clip"], "clip") if "clip" in value else None
        if clip and clip[0] > clip[1]:
            raise DistError(f"clip: [lo, hi] needs lo <= hi, got {list(clip)}")
        return Dist("normal", (mu, sigma), clip=clip)
    if len(keys) != 1:
        raise DistError(f"a distribution has exactly one of uniform, normal, randint, poisson, choice; got keys {sorted(keys)}")
    (k, v), = value.items()
    if k == "uniform":
        a, b = _pair(v, k)
        if a > b:
            raise DistError(f"{{uniform: [a, b]}} needs a <= b, got {v}")
        return Dist("uniform", (a, b))
    if k == "randint":
        a, b = _pair(v, k)
        if a != int(a) or b != int(b) or a > b:
            raise DistError(f"{{randint: [a, b]}} needs whole numbers a <= b, got {v}")
        return Dist("randint", (int(a), int(b)))
    if k == "poisson":
        lam = _num(v, "poisson")
        if lam < 0:
            raise DistError(f"{{poisson: lam}} needs lam >= 0, got {lam}")
        return Dist("poisson", (lam,))
    if k == "choice":
        if isinstance(v, list) and v:
            return Dist("choice", tuple(v))
        if isinstance(v, dict) and v:
            ws = [_num(w, "choice weight") for w in v.values()]
            if any(w < 0 for w in ws) or sum(ws) <= 0:
                raise DistError("{choice: {value: weight}} needs non-negative weights with a positive sum")
            s = sum(ws)
            return Dist("choice", tuple(v.keys()), weights=tuple(w / s for w in ws))
        raise DistError(f"{{choice: ...}} expects a non-empty list or a {{value: weight}} map, got {v!r}")
    raise DistError(f"unknown distribution {k!r}; expected uniform, normal, randint, poisson or choice")


def sampler(rng: np.random.Generator) -> Callable[[Any], Any]:
    """`draw = sampler(rng); draw(recipe.scene.camera.height_m)` samples Dists, passes plain values."""
    def draw(v: Any) -> Any:
        return v.sample(rng) if isinstance(v, Dist) else v
    return draw
