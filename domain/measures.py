"""The catalogue of measures: what each measure, kind of value and unit of the record means.

The vocabularies themselves, and the rule of which units each kind of value is given in, are
those the commands check (``domain.values``); this module only says what they mean, so the
catalogue a client reads and the rules a statistic is checked by cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from domain.values import MEASURES, NAMED_UNITS, UNITS_BY_VALUE_KIND, VALUE_KINDS

#: The stand-in, among a kind of value's units, for any ISO 4217 currency code.
CURRENCY = "currency"

MEASURE_DESCRIPTIONS: Final[dict[str, str]] = {
    "trade_turnover": "Trade between the two parties, exports and imports together.",
    "exports": "Goods (and services, where the source says so) the reporter sold to the partner.",
    "imports": "Goods (and services, where the source says so) the reporter bought from the "
    "partner.",
    "non_oil_exports": "The reporter's exports to the partner other than oil and gas.",
    "agricultural_exports": "The reporter's exports of agricultural products to the partner.",
    "fruit_vegetable_exports": "The reporter's exports of fruit and vegetables to the partner.",
    "freight_volume": "Goods carried between the two parties.",
    "tourist_arrivals": "Tourists travelling between the two parties' countries (the "
    "statistic's remarks and quote say which way).",
    "investment": "Investment between the two parties (the statistic's perspective, or its "
    "quote, says whose, in whom).",
    "agreements_signed": "Agreements, contracts and memoranda signed between the parties.",
    "settlement_share_national_currency": "The share of the two parties' own currencies in "
    "the settlements of their trade.",
}

VALUE_KIND_DESCRIPTIONS: Final[dict[str, str]] = {
    "level": "The amount itself, for the period (at least 0).",
    "change_pct": "Change on the same period a year before, in percent (greater than -100).",
    "share_pct": "A share of a whole, in percent (from 0 to 100).",
    "rank": "A place in a ranking: 1 is first (a whole number from 1).",
    "count": "A number of things (a whole number from 0).",
}

UNIT_DESCRIPTIONS: Final[dict[str, str]] = {
    CURRENCY: "Any ISO 4217 alphabetic currency code, e.g. USD, RUB, AZN (symbols such as $ "
    "are refused).",
    "percent": "Percent.",
    "tonne": "Metric tonnes.",
    "count": "A number of things.",
    "rank": "A place in a ranking.",
    "person": "A number of people.",
}


@dataclass(frozen=True, slots=True)
class ValueKindEntry:
    id: str
    description: str
    units: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MeasureEntry:
    id: str
    description: str
    value_kinds: tuple[ValueKindEntry, ...]


@dataclass(frozen=True, slots=True)
class UnitEntry:
    id: str
    description: str


def _value_kind(kind: str) -> ValueKindEntry:
    return ValueKindEntry(kind, VALUE_KIND_DESCRIPTIONS[kind], UNITS_BY_VALUE_KIND[kind])


def measure_catalogue() -> tuple[MeasureEntry, ...]:
    """Every measure, with the kinds of value it may be reported as and their units. Each
    measure may be reported as any kind of value: which one a figure is, its source says."""
    kinds = tuple(_value_kind(kind) for kind in VALUE_KINDS)
    return tuple(MeasureEntry(m, MEASURE_DESCRIPTIONS[m], kinds) for m in MEASURES)


def unit_catalogue() -> tuple[UnitEntry, ...]:
    """Every unit a figure may be given in, ``currency`` standing for the ISO 4217 codes."""
    return tuple(UnitEntry(unit, UNIT_DESCRIPTIONS[unit]) for unit in (CURRENCY, *NAMED_UNITS))
