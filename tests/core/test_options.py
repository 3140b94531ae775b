"""The one option checker (``poolscope._options``): what it accepts, and its messages."""

from __future__ import annotations

import math

import pytest

from poolscope._options import (choice, choice_problem, instance, number, number_problem,
                                shown, tick_problem)


@pytest.mark.parametrize("value", [0.001, 1, 60, 60.0, 0.5])
def test_numbers_in_range_pass_unchanged(value):
    assert number("tick", value, 0.001, 60, seconds=True) is value


@pytest.mark.parametrize("value, got", [
    (0, "0"), (60.5, "60.5"), (-1, "-1"), (math.inf, "inf"), (math.nan, "nan"),
    ("0.1", "'0.1'"), (None, "None"), (True, "True"), ([1], "[1]"),
])
def test_bad_numbers_name_the_option_the_range_and_the_value(value, got):
    with pytest.raises(ValueError) as info:
        number("tick", value, 0.001, 60, seconds=True)
    assert str(info.value) == f"tick must be a number of seconds from 0.001 to 60 (got {got})"
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("kwargs, value, message", [
    (dict(low=1, high=64, whole=True), 2.0, "workers must be a whole number from 1 to 64 (got 2)"),
    (dict(low=1, high=64, whole=True), 65, "workers must be a whole number from 1 to 64 (got 65)"),
    (dict(low=1, whole=True, none=True), 0,
     "workers must be a whole number >= 1, or None (got 0)"),
    (dict(low=0, above=True), 0, "workers must be a number > 0 (got 0)"),
    (dict(high=5), 6, "workers must be a number <= 5 (got 6)"),
    (dict(low=0, high=60, above=True, seconds=True), 0,
     "workers must be a number of seconds above 0, up to 60 (got 0)"),
])
def test_kinds_and_ranges(kwargs, value, message):
    assert number_problem("workers", value, **kwargs) == message


def test_a_huge_whole_number_is_shown_by_its_size():
    # str() of an int over 4,300 digits raises on 3.11+: the message must not.
    assert number_problem("pages", 10**4400, 1, 10**9, whole=True) == (
        "pages must be a whole number from 1 to 1,000,000,000 (got a number of 14,617 bits)")


def test_none_only_when_allowed_and_whole_numbers_exclude_floats_and_bools():
    assert number_problem("n", None, 1, whole=True, none=True) is None
    assert number_problem("n", None, 1, whole=True) is not None
    assert number_problem("n", True, whole=True) is not None
    assert number_problem("n", 10**30, whole=True) is None  # no bound: any whole number
    assert number_problem("x", 1e300) is None


def test_choices():
    assert choice("labels", "auto", ("auto", "never")) == "auto"
    assert choice_problem("show_wait", 1, (True, False)) is None  # `in`, as before
    with pytest.raises(ValueError, match=r"^labels must be one of 'auto', 'never' \(got \['x'\]\)$"):
        choice("labels", ["x"], ("auto", "never"))  # unhashable: no TypeError from `in`


def test_instance_is_a_type_error():
    assert instance("e", 1, int, "an int") == 1
    with pytest.raises(TypeError, match=r"^e must be an int \(got 'x'\)$"):
        instance("e", "x", int, "an int")


def test_tick_and_shown():
    assert tick_problem("--tick", 0.1) is None
    assert tick_problem("--tick", 0) == "--tick must be a number of seconds from 0.001 to 60 (got 0)"
    assert shown("x" * 100).endswith("...") and len(shown("x" * 100)) == 60
    assert shown(0.1 + 0.2) == "0.30000000000000004"  # never rounded to something else
