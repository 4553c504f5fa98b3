"""Reference code lists: ISO 3166-1 countries, ISO 4217 currencies, BCP 47 language tags.

The lists come from ``pycountry`` (pure reference data, no I/O beyond reading its own files),
so a code is accepted only when the standard knows it. Codes are case sensitive: ``az`` and
``AZE`` are not ISO 3166-1 alpha-2 codes as this record writes them.
"""

from __future__ import annotations

import re
from functools import cache

import pycountry


@cache
def _countries() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


@cache
def _currencies() -> frozenset[str]:
    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


@cache
def _languages() -> frozenset[str]:
    codes: set[str] = set()
    for language in pycountry.languages:
        codes.add(language.alpha_3)
        alpha_2 = getattr(language, "alpha_2", None)
        if alpha_2:
            codes.add(alpha_2)
    return frozenset(codes)


def is_country(code: str) -> bool:
    """An upper-case ISO 3166-1 alpha-2 code of an existing country."""
    return code in _countries()


def is_currency(code: str) -> bool:
    """An upper-case ISO 4217 alphabetic currency code."""
    return code in _currencies()


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return str(country.name) if country is not None else code


# The length RFC 5646 (§4.4.1) asks every implementation to support; tags in use are shorter.
MAX_LANGUAGE_TAG = 35

# language[-script][-region][-variant...]: the common shape of BCP 47 tags (RFC 5646 §2.1).
_LANGUAGE_TAG = re.compile(
    r"^(?P<language>[a-z]{2,3})"
    r"(?:-(?P<script>[A-Z][a-z]{3}))?"
    r"(?:-(?P<region>[A-Z]{2}|\d{3}))?"
    r"(?:-(?:[a-z\d]{5,8}|\d[a-z\d]{3}))*\Z",
    re.ASCII,
)


def is_language_tag(tag: str) -> bool:
    """A BCP 47 tag in canonical case whose primary language is in ISO 639.

    ``en``, ``ru``, ``az-Latn``, ``az-Cyrl-AZ`` and ``pt-BR`` pass; ``EN``, ``english`` and
    ``xx`` do not, nor does a tag of more than 35 characters.
    """
    if len(tag) > MAX_LANGUAGE_TAG:
        return False
    match = _LANGUAGE_TAG.match(tag)
    if match is None or match["language"] not in _languages():
        return False
    region = match["region"]
    return region is None or region.isdigit() or is_country(region)
