"""Reference codes: ISO 3166-1 alpha-2 countries, ISO 4217 currencies, BCP 47 language tags."""

from __future__ import annotations

import pytest

from domain.codes import country_name, is_country, is_currency, is_language_tag


@pytest.mark.parametrize("code", ["AZ", "RU", "TR", "KZ", "BY"])
def test_upper_case_alpha_2_codes_of_real_countries_are_accepted(code: str) -> None:
    assert is_country(code)


@pytest.mark.parametrize(
    "code", ["az", "Az", "AZE", "Azerbaijan", "XX", "SU", "", " AZ", "AZ ", "AZ\n", "031"]
)
def test_anything_else_is_not_a_country(code: str) -> None:
    assert not is_country(code)


def test_a_country_code_has_its_standard_name() -> None:
    assert country_name("AZ") == "Azerbaijan"
    assert country_name("RU") == "Russian Federation"


def test_an_unknown_country_code_is_named_as_itself() -> None:
    assert country_name("XX") == "XX"


@pytest.mark.parametrize("code", ["USD", "RUB", "AZN", "EUR"])
def test_iso_4217_currency_codes_are_accepted(code: str) -> None:
    assert is_currency(code)


@pytest.mark.parametrize("code", ["$", "usd", "Usd", "US$", "USDX", "XYZ", "manat", ""])
def test_currency_symbols_lower_case_and_unknown_codes_are_not_currencies(code: str) -> None:
    assert not is_currency(code)


@pytest.mark.parametrize(
    "tag", ["en", "ru", "az", "az-Latn", "az-Cyrl-AZ", "pt-BR", "es-419", "aze", "sl-rozaj"]
)
def test_canonical_bcp_47_tags_of_iso_639_languages_are_accepted(tag: str) -> None:
    assert is_language_tag(tag)


@pytest.mark.parametrize(
    "tag",
    [
        "EN",
        "english",
        "xx",
        "en-us",
        "en_US",
        "az-latn",
        "en-XX",
        "",
        " en",
        "en ",
        "en\n",
        "es-٤١٩",
    ],
)
def test_other_case_unknown_languages_and_malformed_tags_are_refused(tag: str) -> None:
    assert not is_language_tag(tag)
