"""The distribution grammar: parsing, sampling within bounds, and the recipe text form."""
from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from synthdata.recipe.distributions import (
    Dist,
    DistError,
    parse_bool,
    parse_choice,
    parse_number,
    sampler,
    show_value,
)

N = 2000


def draws(d: Dist, n: int = N, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [d.sample(rng) for _ in range(n)]


def test_constant_number():
    d = parse_number(3)
    assert d == Dist("const", (3.0,))
    assert draws(d, 5) == [3.0] * 5
    assert isinstance(parse_number(3, integer=True).sample(np.random.default_rng(0)), int)


def test_uniform_within_bounds_and_spread():
    xs = draws(parse_number({"uniform": [2, 5]}))
    assert all(2 <= x < 5 for x in xs)
    assert min(xs) < 2.1 and max(xs) > 4.9
    assert all(isinstance(x, float) for x in xs)


def test_normal_clipped_stays_in_clip_range():
    xs = draws(parse_number({"normal": [0, 10], "clip": [-1, 1]}, minimum=-1, maximum=1))
    assert all(-1 <= x <= 1 for x in xs)
    assert xs.count(1.0) > 100 and xs.count(-1.0) > 100   # sigma 10 clips often at both ends


def test_normal_mean_and_spread():
    xs = np.array(draws(parse_number({"normal": [5, 2]})))
    assert abs(xs.mean() - 5) < 0.2 and abs(xs.std() - 2) < 0.2


def test_randint_includes_both_ends():
    xs = draws(parse_number({"randint": [1, 3]}, integer=True))
    assert set(xs) == {1, 2, 3}
    assert all(isinstance(x, int) for x in xs)


def test_poisson_mean_and_nonnegative():
    xs = draws(parse_number({"poisson": 4}, integer=True))
    assert min(xs) >= 0 and abs(np.mean(xs) - 4) < 0.2


def test_bernoulli_frequency():
    xs = draws(parse_bool({"bernoulli": 0.2}))
    assert set(xs) == {True, False}
    assert abs(sum(xs) / N - 0.2) < 0.03


def test_uniform_choice_covers_all_values():
    xs = draws(parse_choice({"choice": ["day", "dusk", "night"]}, ("day", "dusk", "night")))
    counts = Counter(xs)
    assert set(counts) == {"day", "dusk", "night"}
    assert all(abs(c / N - 1 / 3) < 0.04 for c in counts.values())


def test_weighted_choice_frequencies_match_weights():
    d = parse_choice({"choice": {"day": 6, "night": 3, "dusk": 1}})   # weights need not sum to 1
    counts = Counter(draws(d, 5000))
    assert abs(counts["day"] / 5000 - 0.6) < 0.03
    assert abs(counts["night"] / 5000 - 0.3) < 0.03
    assert abs(counts["dusk"] / 5000 - 0.1) < 0.02


def test_weighted_numeric_choice_mean():
    d = parse_number({"choice": {1: 0.5, 3: 0.5}}, integer=True)
    assert d.mean() == 2.0
    assert set(draws(d, 200)) == {1, 3}


def test_same_seed_same_draws():
    d = parse_number({"uniform": [0, 1]})
    assert draws(d, 10, seed=42) == draws(d, 10, seed=42)
    assert draws(d, 10, seed=42) != draws(d, 10, seed=43)


def test_sampler_passes_plain_values_through():
    draw = sampler(np.random.default_rng(0))
    assert draw(7) == 7 and draw("x") == "x"
    assert 1 <= draw(parse_number({"randint": [1, 2]}, integer=True)) <= 2


@pytest.mark.parametrize("value", [{"uniform": [1, 2]}, {"normal": [3, 1]}, 2.5])
def test_integer_fields_reject_fractional_distributions(value):
    with pytest.raises(DistError, match="whole number"):
        parse_number(value, integer=True)


@pytest.mark.parametrize("value, message", [
    ("many", "expected a number or a distribution such as {uniform: [1, 2]} or {normal: [0, 1]}, got 'many'"),
    ({"uniform": [5, 1]}, "{uniform: [a, b]} needs a <= b, got [5, 1]"),
    ({"uniform": [1]}, "{uniform: ...} expects a list of two numbers such as [1, 2], got [1]"),
    ({"gauss": [1, 2]}, "unknown distribution 'gauss'"),
    ({"poisson": -1}, "{poisson: lam} needs lam >= 0"),
    ({"normal": [0, -1]}, "needs sigma >= 0"),
    (float("nan"), "expected a finite number"),
    ({"uniform": [0, 1], "poisson": 2}, "a distribution has exactly one of"),
    ({"bernoulli": 0.5}, "that is for yes/no fields"),
    (True, "got true"),
])
def test_bad_numbers_are_explained(value, message):
    with pytest.raises(DistError) as e:
        parse_number(value)
    assert message in str(e.value)


def test_range_checks_consider_every_outcome():
    with pytest.raises(DistError, match=r"values must be >= 0, but \{uniform: \[-1, 2\]\} can give -1"):
        parse_number({"uniform": [-1, 2]}, minimum=0)
    with pytest.raises(DistError, match="values must be <= 10"):
        parse_number({"choice": [1, 20]}, maximum=10)
    with pytest.raises(DistError, match="needs a clip range"):
        parse_number({"normal": [1, 1]}, minimum=0)
    with pytest.raises(DistError, match="can give 0"):
        parse_number({"poisson": 2}, integer=True, minimum=1)
    assert parse_number({"poisson": 2}, integer=True, minimum=0, maximum=500).kind == "poisson"


def test_choice_rejects_values_outside_allowed():
    with pytest.raises(DistError, match="expected one of day, night, got 'noon'"):
        parse_choice({"choice": ["day", "noon"]}, ("day", "night"))
    with pytest.raises(DistError, match="expected one of day, night"):
        parse_choice(3, ("day", "night"))


def test_bool_forms():
    assert parse_bool(True) == Dist("const", (True,))
    assert parse_bool({"choice": [True, False]}).kind == "choice"
    for bad in ("yes please", {"bernoulli": 1.5}, {"choice": ["a", "b"]}, 1):
        with pytest.raises(DistError):
            parse_bool(bad)


@pytest.mark.parametrize("parse, value", [
    (lambda v: parse_number(v), 2.5),
    (lambda v: parse_number(v), {"uniform": [1, 2]}),
    (lambda v: parse_number(v), {"normal": [0, 1], "clip": [-2, 2]}),
    (lambda v: parse_number(v), {"choice": [1, 2.5]}),
    (lambda v: parse_number(v), {"choice": {0.1: 0.1, 0.2: 0.2, 0.7: 0.7}}),
    (lambda v: parse_number(v, integer=True), {"randint": [1, 9]}),
    (lambda v: parse_number(v, integer=True), {"poisson": 3}),
    (lambda v: parse_number(v, integer=True), {"choice": {"1": 1, "2": 3}}),   # JSON-style keys
    (lambda v: parse_choice(v), {"choice": {"a": 0.1, "b": 0.2, "c": 0.7}}),
    (lambda v: parse_bool(v), {"bernoulli": 0.1}),
    (lambda v: parse_bool(v), {"choice": {True: 0.2, False: 0.8}}),
])
def test_to_yaml_parses_back_to_an_equal_dist(parse, value):
    d = parse(value)
    again = parse(d.to_yaml())
    assert again == d
    assert again.sample(np.random.default_rng(5)) == d.sample(np.random.default_rng(5))


def test_weighted_bool_choice_serialises_with_bool_keys():
    assert parse_bool({"bernoulli": 0.2}).to_yaml() == {"bernoulli": 0.2}
    assert parse_bool({"choice": {True: 1, False: 3}}).to_yaml() == {"choice": {True: 1.0, False: 3.0}}


def test_show_value_uses_recipe_spelling():
    assert show_value("many") == "'many'"
    assert show_value({"poisson": 4}) == "{poisson: 4}"
    assert show_value(None) == "null"
    assert show_value(2.0) == "2"
    assert show_value(parse_number({"uniform": [1, 2]})) == "{uniform: [1.0, 2.0]}"
    assert math.isclose(parse_number({"choice": {1: 1, 3: 3}}).mean(), 2.5)
