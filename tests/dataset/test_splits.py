"""Splits: a hash of the near-duplicate group, in the configured fractions, never moving."""

from __future__ import annotations

from collections import Counter

import pytest

from dataset.splits import parse_fractions, split_of

FRACTIONS = (0.8, 0.1, 0.1)


def test_fractions_are_three_numbers_adding_up_to_one():
    assert parse_fractions("0.7,0.2,0.1") == (0.7, 0.2, 0.1)
    for bad in ("0.8,0.2", "0.5,0.5,0.5", "0.9,0.2,-0.1", "a,b,c"):
        with pytest.raises(ValueError):
            parse_fractions(bad)


def test_a_group_always_gets_the_same_split():
    assert {split_of("group-1", FRACTIONS) for _ in range(3)} == {split_of("group-1", FRACTIONS)}


def test_many_groups_divide_in_the_configured_fractions():
    counts = Counter(split_of(f"{n:064x}", FRACTIONS) for n in range(20_000))
    assert counts["train"] / 20_000 == pytest.approx(0.8, abs=0.01)
    assert counts["val"] / 20_000 == pytest.approx(0.1, abs=0.01)
    assert counts["test"] / 20_000 == pytest.approx(0.1, abs=0.01)


def test_a_fraction_of_zero_gets_no_group():
    assert {split_of(f"g{n}", (1.0, 0.0, 0.0)) for n in range(1000)} == {"train"}
