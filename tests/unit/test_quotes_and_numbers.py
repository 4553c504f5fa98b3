"""Quotes match whole words and numbers; figures are plain ASCII decimals of sane size."""

from __future__ import annotations

import pytest

from domain.errors import Problems
from domain.values import check_text, collapse_whitespace, parse_decimal, quote_pattern

TEXT = collapse_whitespace("Trade grew by 17.5 percent, to 4,4 bn.\nHeld in Baku  (Azerbaijan).")


@pytest.mark.parametrize(
    "quote", ["grew by 17.5 percent", "Held in Baku", "Baku (Azerbaijan).", "to 4,4 bn.", "Trade"]
)
def test_a_quote_of_whole_words_is_found(quote: str) -> None:
    assert quote_pattern(quote).search(TEXT)


@pytest.mark.parametrize("quote", ["grew by 17", "Held in Bak", "rade grew", "to 4", "percent, t"])
def test_a_quote_that_cuts_a_word_or_number_short_is_not_found(quote: str) -> None:
    assert quote_pattern(quote).search(TEXT) is None


@pytest.mark.parametrize("text", ["٢٦٠", "1E+100000", "1E-40", "１２"])
def test_a_figure_must_be_an_ascii_decimal_of_sane_magnitude(text: str) -> None:
    problems = Problems()
    assert parse_decimal(problems, "value", text) is None
    assert problems


@pytest.mark.parametrize("text", ["0", "4.4E9", "1E17", "0.000001", "57.8"])
def test_ordinary_figures_are_accepted(text: str) -> None:
    problems = Problems()
    assert parse_decimal(problems, "value", text) is not None
    assert not problems


@pytest.mark.parametrize("text", ["Baku\x00", "Baku \ud800 hosts"])
def test_text_with_a_nul_or_a_lone_surrogate_is_refused(text: str) -> None:
    problems = Problems()
    check_text(problems, "title", text, 200)
    assert problems
