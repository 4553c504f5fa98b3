"""Whatever the record accepts, every read model holds and reads back; whatever it refuses
changes nothing.

Hypothesis draws commands across the whole space the record accepts, at its bounds above all
(figures of the most digits, the most places, the largest and smallest size, zero with every
exponent allowed; ordinals 1 and 100,000; dates in the years 0001 and 9999; texts of odd
Unicode at their length limits, sent composed or decomposed; the most evidence items, names
and co-chairs), records them on PostgreSQL and projects them. Each accepted command must bring
every live read model to the log's last position, and read back as it was accepted. Values
just beyond a bound are drawn too: each must be refused naming its field, storing nothing.

The examples of one test share its database: each writes new facts (a new commission, new
figures), so the record grows as they run, as a real one does. They are derandomized: a run
is the same on every machine, every time.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from itertools import count
from typing import Any, cast
from uuid import UUID

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from psycopg import sql

from domain.application import Records, StatisticRecorded, today
from domain.dates import PartialDate, Period
from domain.errors import InvalidCommandError, UnknownCommissionError
from domain.session import StatisticChanges
from domain.values import (
    MAX_DECIMAL_TEXT,
    MAX_DIGITS,
    MAX_EVIDENCE,
    MAX_LIST,
    MAX_MAGNITUDE,
    MAX_NAME,
    MAX_ORDINAL,
    MAX_QUOTE,
    MAX_QUOTED,
    MAX_SCALE,
    MAX_TEXT,
    MAX_TITLE,
    MEASURES,
    MIN_MAGNITUDE,
    MIN_ORDINAL,
    QUALIFIERS,
    TOPICS,
    Evidence,
    Place,
    Representative,
)
from projections.queries import ReadModels
from projections.runner import Projector

pytestmark = pytest.mark.postgres

RECORDER = "hypothesis"
SOURCE = "untexted-readout"  # registered without text: any quote is taken as given
PARTIES = ("AZ", "RU")
COMMISSION = "az-ru-bounds"
SESSION = "22"

#: Each test's examples write to one database, emptied for the test: it is meant to grow.
SHARED_RECORD = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


def examples(count: int) -> Callable[[Any], Any]:
    return settings(
        max_examples=count,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=SHARED_RECORD,
    )


# --- texts ------------------------------------------------------------------------------------

#: Text a record of this kind holds: names in several scripts, decomposed letters, letters
#: NFC writes longer (U+0958) or shorter (Hangul jamo), emoji sequences, right-to-left text
#: and marks, combining marks stacked, white space and a control character.
PIECES = [
    "Şahin",
    "Алексей",
    "e\u0301",
    "é",
    "ΐ",
    "ß",
    "İ",
    "ﬃ",
    "👩‍👩‍👧",
    "🇦🇿",
    "שלום",
    "مرحبا",
    "\u202e",
    "\u200f",
    "Z\u0324\u0354\u0367\u0311\u0313",
    "\u1100\u1161\u11a8",
    "\u0958",
    "中文",
    "𠀋",
    " ",
    "\t",
    "\n",
    "\x1b",
    "x",
]
CHARACTERS = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fit(text: str, limit: int) -> str:
    """``text`` in NFC, cut to at most ``limit`` characters as the record counts them, and
    not blank."""
    text = nfc(text)
    while len(text) > limit:
        text = nfc(text[:limit])
    return text if text.strip() else nfc("x" + text[: limit - 1])


@st.composite
def texts(draw: st.DrawFn, limit: int) -> str:
    """Text the record accepts for a field of ``limit`` characters: short, or as long as it
    may be; sent in NFC, in NFD, or as drawn."""
    pieces = draw(
        st.lists(
            st.sampled_from(PIECES) | st.text(CHARACTERS, min_size=1, max_size=6),
            min_size=1,
            max_size=5,
        )
    )
    times = draw(st.sampled_from([1, limit]))
    text = fit("".join(pieces) * times, limit)
    return unicodedata.normalize("NFD", text) if draw(st.booleans()) else text


@st.composite
def too_long(draw: st.DrawFn, limit: int) -> str:
    """Text one to three characters over ``limit``, as the record counts them (in NFC)."""
    over = limit + draw(st.integers(1, 3))
    text = fit(draw(texts(over)) + "x" * over, over)
    assert len(text) > limit
    return text if draw(st.booleans()) else unicodedata.normalize("NFD", text)


# --- dates ------------------------------------------------------------------------------------

FIRST_DAY = date(1, 1, 1)
LAST_DAY = date(9999, 12, 31)


def written(day: date, precision: str) -> str:
    if precision == "year":
        return f"{day.year:04d}"
    if precision == "quarter":
        return f"{day.year:04d}-Q{(day.month + 2) // 3}"
    if precision == "month":
        return f"{day.year:04d}-{day.month:02d}"
    return day.isoformat()


def days(latest: date) -> st.SearchStrategy[date]:
    return st.sampled_from([FIRST_DAY, latest]) | st.dates(FIRST_DAY, latest)


@st.composite
def partial_dates(draw: st.DrawFn, latest: date) -> str:
    """A partial date that begins no later than ``latest``."""
    precision = draw(st.sampled_from(["year", "quarter", "month", "day"]))
    return written(draw(days(latest)), precision)


@st.composite
def periods(draw: st.DrawFn) -> str:
    """A period beginning no later than today, ending as late as the year 9999."""
    start = draw(days(today()))
    end = draw(st.sampled_from([start, LAST_DAY]) | st.dates(start, LAST_DAY))
    first = written(start, draw(st.sampled_from(["year", "quarter", "month", "day"])))
    last = written(end, draw(st.sampled_from(["year", "quarter", "month", "day"])))
    return first if first == last or draw(st.booleans()) else f"{first}/{last}"


# --- figures ----------------------------------------------------------------------------------


def decimal(sign: int, digits: list[int], exponent: int) -> Decimal:
    return Decimal((sign, tuple(digits), exponent))


@st.composite
def coefficients(draw: st.DrawFn, most: int) -> list[int]:
    """The digits of a figure other than zero: one to ``most``, the first not 0."""
    size = draw(st.sampled_from([1, most]) | st.integers(1, most))
    rest = draw(st.lists(st.integers(0, 9), min_size=size - 1, max_size=size - 1))
    return [draw(st.integers(1, 9)), *rest]


@st.composite
def sized(draw: st.DrawFn, *, sign: int = 0, largest: int = MAX_MAGNITUDE) -> Decimal:
    """A figure other than zero within the bounds, of size (adjusted exponent) at most
    ``largest``."""
    most = min(MAX_DIGITS, largest + MAX_SCALE + 1)
    digits = draw(coefficients(most))
    lowest = max(MIN_MAGNITUDE, len(digits) - 1 - MAX_SCALE)
    size = draw(st.sampled_from([lowest, largest]) | st.integers(lowest, largest))
    return decimal(sign, digits, size - len(digits) + 1)


@st.composite
def zeros(draw: st.DrawFn, *, signed: bool = True) -> Decimal:
    """Zero with every exponent the bounds allow, either sign."""
    exponent = draw(st.sampled_from([-MAX_SCALE, MAX_MAGNITUDE]) | st.integers(-18, 17))
    return decimal(draw(st.sampled_from([0, 1])) if signed else 0, [0], exponent)


@st.composite
def whole(draw: st.DrawFn, least: int) -> Decimal:
    """A whole figure of at least ``least``, with trailing places (``260.000``) or an exponent
    (``2.6E2``)."""
    number = draw(st.sampled_from([least, 10**18 - 1]) | st.integers(least, 10**18 - 1))
    digits = [int(d) for d in str(number)]
    places = draw(st.integers(0, min(MAX_SCALE, MAX_DIGITS - len(digits))))
    if places or draw(st.booleans()):
        return decimal(0, digits + [0] * places, -places)
    while digits[-1] == 0 and len(digits) > 1:  # 2600 as 26E2
        digits.pop()
    return decimal(0, digits, len(str(number)) - len(digits))


def figures(value_kind: str) -> st.SearchStrategy[Decimal]:
    """Figures a ``value_kind`` may have, across the bounds and at their edges."""
    hundred = st.builds(
        lambda places: decimal(0, [1, 0, 0] + [0] * places, -places), st.integers(0, 18)
    )
    if value_kind == "level":
        return sized() | zeros()
    if value_kind == "share_pct":
        return sized(largest=1) | zeros() | hundred
    if value_kind == "change_pct":
        return sized() | sized(sign=1, largest=1) | zeros()
    if value_kind == "rank":
        return whole(1)
    return whole(0) | zeros(signed=False)


@st.composite
def written_figures(draw: st.DrawFn, value_kind: str) -> str:
    """A figure as a client may write it: as Python does, in plain or scientific notation."""
    value = draw(figures(value_kind))
    text = draw(st.sampled_from([str(value), f"{value:f}", f"{value:E}", f"{value:e}"]))
    assert len(text) <= MAX_DECIMAL_TEXT
    assert Decimal(text) == value
    return text


@st.composite
def figures_beyond(draw: st.DrawFn) -> str:
    """A level just beyond one bound of a figure (or far beyond: the review's two zeros)."""
    beyond = draw(
        st.sampled_from(["digits", "places", "zero places", "zero exponent", "size", "text"])
    )
    if beyond == "digits":
        size = draw(st.integers(MAX_DIGITS + 1, MAX_DIGITS + 6))
        digits = [1] + [draw(st.integers(0, 9)) for _ in range(size - 1)]
        # Of a size within the bounds, to the last place allowed: only the digits are beyond.
        value = decimal(0, digits, draw(st.integers(-MAX_SCALE, MAX_MAGNITUDE + 1 - size)))
    elif beyond == "places":
        digits = draw(coefficients(6))
        value = decimal(0, digits, -draw(st.integers(MAX_SCALE + 1, MAX_SCALE + 3)))
    elif beyond == "zero places":
        value = decimal(0, [0], -draw(st.sampled_from([19, 20, 16384, 100_000_000])))
    elif beyond == "zero exponent":
        value = decimal(0, [0], draw(st.integers(MAX_MAGNITUDE + 1, MAX_MAGNITUDE + 5)))
    elif beyond == "size":
        size = draw(
            st.integers(MAX_MAGNITUDE + 1, MAX_MAGNITUDE + 5)
            | st.integers(MIN_MAGNITUDE - 3, MIN_MAGNITUDE - 1)
        )
        value = decimal(0, [draw(st.integers(1, 9))], size)
    else:
        return "0" * MAX_DECIMAL_TEXT + draw(st.sampled_from(["1", "4.4E9", "17.5"]))
    return str(value)


# --- the record under test --------------------------------------------------------------------

#: A new commission for each example that needs one (its ordinals are its own).
commission_numbers = count(1)


def evidence_of(quotes: list[str], size: int) -> list[Evidence]:
    return [Evidence(SOURCE, quotes[index % len(quotes)]) for index in range(size)]


@st.composite
def evidence_lists(draw: st.DrawFn) -> list[Evidence]:
    """One to 50 items (50 often), with quotes up to 2,000 characters, 5,000 in all."""
    size = draw(st.sampled_from([1, MAX_EVIDENCE]) | st.integers(1, MAX_EVIDENCE))
    quotes = draw(st.lists(texts(min(MAX_QUOTE, MAX_QUOTED // size)), min_size=1, max_size=3))
    return evidence_of(quotes, size)


def fullest_evidence() -> list[Evidence]:
    """The most evidence a fact may have: 50 items, two of them quotes of the longest, and
    nearly as many characters in all as the quotes of a fact may hold."""
    rest = (MAX_QUOTED - 2 * MAX_QUOTE) // (MAX_EVIDENCE - 2)
    longest_two = [Evidence(SOURCE, longest(MAX_QUOTE))] * 2
    return longest_two + [Evidence(SOURCE, longest(rest))] * (MAX_EVIDENCE - 2)


def stored(evidence: list[Evidence]) -> list[dict[str, str]]:
    return [{"source": item.source, "quote": nfc(item.quote)} for item in evidence]


def as_recorded(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Evidence as answered, without the status and offsets the read adds."""
    return [{"source": item["source"], "quote": item["quote"]} for item in items]


def set_up(records: Records) -> None:
    """The source, commission and session 22 the statistics' examples share; once a test."""
    try:
        records.commission(COMMISSION)
        return
    except UnknownCommissionError:
        pass
    records.register_source(
        id=SOURCE, title="Readout", publisher="A ministry", language="en", recorded_by=RECORDER
    )
    records.establish_commission(
        id=COMMISSION, parties=list(PARTIES), names={"en": "Commission"}, recorded_by=RECORDER
    )
    records.record_convened_session(
        COMMISSION,
        ordinal=22,
        kind="plenary",
        format="in_person",
        start="2024",
        evidence=[Evidence(SOURCE, "held")],
        recorded_by=RECORDER,
    )
    report(records)  # the statistic the corrections beyond the bounds are refused for


def assert_projected(projector: Projector) -> None:
    """Every live read model has applied the whole log, without failing."""
    projector.catch_up()
    last = projector.store.max_position()
    assert {name: g.position for name, g in projector.store.live().items()} == dict.fromkeys(
        projector.models, last
    )


UNITS = {
    "level": ["USD", "AZN", "EUR", "tonne", "person", "count"],
    "change_pct": ["percent"],
    "share_pct": ["percent"],
    "rank": ["rank"],
    "count": ["count", "person"],
}


@st.composite
def statistics(draw: st.DrawFn) -> dict[str, Any]:
    """The fields of a statistic the record accepts."""
    value_kind = draw(st.sampled_from(list(UNITS)))
    measure = draw(st.sampled_from(MEASURES))
    reporter, partner = draw(
        st.sampled_from([("AZ", "RU"), ("RU", "AZ")])
        if measure == "trade_turnover"
        else st.sampled_from([(None, None), ("AZ", None), (None, "RU"), ("RU", "AZ")])
    )
    undated = value_kind in ("rank", "count")
    return {
        "measure": measure,
        "value_kind": value_kind,
        "value": draw(written_figures(value_kind)),
        "unit": draw(st.sampled_from(UNITS[value_kind])),
        "qualifier": draw(st.sampled_from(QUALIFIERS)),
        "reporter": reporter,
        "partner": partner,
        "period": draw(st.none() | periods()) if undated else draw(periods()),
        "stated_by": draw(st.sampled_from([None, *PARTIES])),
        "remarks": draw(st.none() | texts(MAX_TEXT)),
        "evidence": draw(evidence_lists()),
    }


#: A figure in plain notation, as every answer writes it (``4.4E9`` as ``4400000000``).
PLAIN = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def stored_figure(projector: Projector, sid: UUID) -> Decimal:
    """The figure in the statistics model's ``numeric`` column, as PostgreSQL holds it."""
    schema = projector.store.live()["statistics"].schema
    with projector.store.transaction() as cursor:
        cursor.execute(
            sql.SQL("SELECT value FROM {}.statistics WHERE id = %s AND valid_to IS NULL").format(
                sql.Identifier(schema)
            ),
            (sid,),
        )
        row = cursor.fetchone()
    assert row is not None
    return Decimal(row["value"])


def assert_reads_back(row: dict[str, Any], given: dict[str, Any]) -> None:
    """A statistic as a read model answers it, against the fields it was given."""
    assert PLAIN.fullmatch(row["value"]), row["value"]  # as answers write figures
    assert Decimal(row["value"]) == Decimal(given["value"])
    assert len(row["value"]) <= 26
    for name in ("measure", "value_kind", "unit", "qualifier", "reporter", "partner"):
        assert row[name] == given[name], name
    assert row["stated_by"] == given["stated_by"]
    period = given["period"]
    assert row["period"] == (None if period is None else str(Period.parse(period)))
    assert row["remarks"] == (None if given["remarks"] is None else nfc(given["remarks"]))


# --- the edges, always among the examples -----------------------------------------------------


def longest(limit: int) -> str:
    """Text of every odd piece, as long as ``limit`` allows, sent decomposed."""
    return unicodedata.normalize("NFD", fit("".join(PIECES) * limit, limit))


def at_the_bounds(value_kind: str, unit: str, value: str) -> dict[str, Any]:
    """A statistic of a figure at the bounds, every other field at its own."""
    return {
        "measure": "exports",
        "value_kind": value_kind,
        "value": value,
        "unit": unit,
        "qualifier": "at_most",
        "reporter": "AZ",
        "partner": "RU",
        "period": "0001-01-01/9999-12-31",
        "stated_by": "RU",
        "remarks": longest(MAX_TEXT),
        "evidence": fullest_evidence(),
    }


#: Figures at the edges of the bounds, each of a kind it fits.
EDGES = [
    ("level", "USD", "999999999999999999.999999"),  # the largest, with the most digits
    ("level", "USD", "9.99999999999999999999999E+17"),
    ("level", "tonne", "0E-18"),  # zero with the most places
    ("level", "person", "-0E+17"),  # and with the largest exponent
    ("share_pct", "percent", "0.000000000001234567"),  # the smallest, with the most places
    ("share_pct", "percent", "100.000000000000000000"),
    ("change_pct", "percent", "-99.999999999999999999"),
    ("rank", "rank", "999999999999999999"),
    ("count", "count", "100000000000000000.000000"),
]


def with_edges(test: Any) -> Any:
    for value_kind, unit, value in EDGES:
        test = example(
            given=at_the_bounds(value_kind, unit, value), correction=None, retract=False
        )(test)
    return example(
        given=at_the_bounds("level", "USD", "0E-18"),
        correction=at_the_bounds("count", "count", "100000000000000000.000000"),
        retract=True,
    )(test)


# --- the properties ---------------------------------------------------------------------------


@examples(60)
@with_edges
@given(given=statistics(), correction=st.none() | statistics(), retract=st.booleans())
def test_every_statistic_accepted_is_projected_and_reads_back_as_accepted(
    pg_records: Records,
    projector: Projector,
    given: dict[str, Any],
    correction: dict[str, Any] | None,
    retract: bool,
) -> None:
    set_up(pg_records)
    read_models = ReadModels(projector.store)
    sid = pg_records.report_statistic(
        COMMISSION, SESSION, recorded_by=RECORDER, **given
    ).statistic_id
    stands = given
    if correction is not None:
        # A correction of every field the figure shares with another: the qualifier changes
        # too, so that the correction always changes something.
        changes = {name: correction[name] for name in ("value", "unit", "value_kind", "period")}
        changes["remarks"] = correction["remarks"]
        changes["qualifier"] = QUALIFIERS[(QUALIFIERS.index(given["qualifier"]) + 1) % 6]
        pg_records.correct_statistic(
            sid,
            changes=cast(StatisticChanges, changes),
            reason=correction["remarks"] or "revised",
            evidence=correction["evidence"],
            recorded_by=RECORDER,
        )
        stands = {**given, **changes}
    if retract:
        pg_records.retract_statistic(sid, reason="withdrawn", recorded_by=RECORDER)

    assert_projected(projector)

    figure = read_models.statistic(sid, None)
    assert figure is not None
    assert_reads_back(figure, stands)
    assert stored_figure(projector, sid) == Decimal(stands["value"])
    # A correction of the figure cites evidence of its own: the reported evidence is
    # superseded, kept apart.
    if correction is not None:
        assert as_recorded(figure["evidence"]) == stored(correction["evidence"])
        assert as_recorded(figure["superseded_evidence"]) == stored(given["evidence"])
    else:
        assert as_recorded(figure["evidence"]) == stored(given["evidence"])
        assert figure["superseded_evidence"] == []
    assert (figure["revision"], figure["retracted"]) == (1 + (correction is not None), retract)
    history = read_models.statistic_history(sid, None)
    assert history is not None
    assert len(history["versions"]) == 1 + (correction is not None) + retract
    session = read_models.session(COMMISSION, SESSION, None)
    assert session is not None
    assert sid in {UUID(str(s["id"])) for s in session["statistics"]}
    timeline = read_models.timeline(COMMISSION, None, None, None, None, 500)
    assert timeline is not None
    read_models.trade_position(PARTIES, given["measure"], None)


@st.composite
def people(draw: st.DrawFn, least: int = 0) -> list[Representative]:
    """Up to 100 people of the two parties (100 often), with names and titles up to their
    limits; the first ``least`` of them one of each party."""
    size = draw(st.sampled_from([least, MAX_LIST]) | st.integers(least, MAX_LIST))
    names = draw(st.lists(texts(MAX_NAME), min_size=1, max_size=3))
    titles = draw(st.lists(texts(MAX_TITLE), min_size=1, max_size=2))
    return [
        Representative(PARTIES[i % 2], names[i % len(names)], titles[i % len(titles)])
        for i in range(size)
    ]


def person_stored(person: Representative) -> dict[str, str]:
    return {"party": person.party, "name": nfc(person.name), "title": nfc(person.title)}


LANGUAGES = ["en", "ru", "az", "az-Latn", "az-Cyrl-AZ", "pt-BR", "es-419", "sl-rozaj"]
LONGEST_TAG = "en-abcdefgh-abcdefgh-abcdefgh-abcde"


@st.composite
def names(draw: st.DrawFn) -> dict[str, str]:
    """One to 100 names by language, the longest tag among them now and then."""
    size = draw(st.sampled_from([1, MAX_LIST]) | st.integers(1, MAX_LIST))
    tags = [*LANGUAGES, LONGEST_TAG, *(f"en-{n:05d}" for n in range(MAX_LIST))]
    chosen = draw(st.permutations(tags))[:size]
    texts_ = draw(st.lists(texts(MAX_TITLE), min_size=1, max_size=3))
    return {tag: texts_[index % len(texts_)] for index, tag in enumerate(chosen)}


@st.composite
def sessions(draw: st.DrawFn) -> dict[str, Any]:
    """A commission, its co-chair, a held session with its protocol, declaration and
    correction, and a session scheduled as late as the year 9999 and postponed."""
    recorded = today()
    start = draw(days(recorded))
    return {
        "names": draw(names()),
        "established_on": draw(st.none() | partial_dates(recorded)),
        "mandate": draw(st.none() | texts(MAX_TEXT)),
        "co_chair": draw(people(1))[0],
        "since": draw(st.none() | partial_dates(recorded)),
        "ordinal": draw(st.sampled_from([MIN_ORDINAL, MAX_ORDINAL]) | st.integers(1, MAX_ORDINAL)),
        "start": written(start, "day"),
        "end": draw(st.none() | st.dates(start, recorded).map(date.isoformat)),
        "city": draw(texts(MAX_NAME)),
        "co_chairs": draw(people()),
        "topics": draw(st.lists(st.sampled_from(TOPICS), unique=True)),
        "summary": draw(st.none() | texts(MAX_TEXT)),
        "signatories": draw(people(2)),
        "protocol_title": draw(st.none() | texts(MAX_TITLE)),
        "declaration": draw(texts(MAX_TITLE)),
        "dated": draw(partial_dates(recorded)),
        "characterization": draw(st.none() | texts(MAX_TITLE)),
        "corrected_summary": draw(texts(MAX_TEXT)),
        "planned": draw(partial_dates(LAST_DAY)),
        "postponed_to": draw(st.none() | partial_dates(LAST_DAY)),
        "reason": draw(texts(MAX_TEXT)),
        "evidence": draw(evidence_lists()),
    }


def session_at_the_bounds() -> dict[str, Any]:
    """A commission and its sessions with every field at its bounds."""
    return {
        "names": {
            LONGEST_TAG: longest(MAX_TITLE),
            **{f"en-{n:05d}": longest(MAX_TITLE) for n in range(MAX_LIST - 1)},
        },
        "established_on": "0001",
        "mandate": longest(MAX_TEXT),
        "co_chair": Representative("AZ", longest(MAX_NAME), longest(MAX_TITLE)),
        "since": "0001-01-01",
        "ordinal": MAX_ORDINAL,
        "start": "0001-01-01",
        "end": today().isoformat(),
        "city": longest(MAX_NAME),
        "co_chairs": [
            Representative(PARTIES[i % 2], longest(MAX_NAME), longest(MAX_TITLE))
            for i in range(MAX_LIST)
        ],
        "topics": list(TOPICS),
        "summary": longest(MAX_TEXT),
        "signatories": [Representative(PARTIES[i % 2], longest(MAX_NAME), "x") for i in range(2)]
        * (MAX_LIST // 2),
        "protocol_title": longest(MAX_TITLE),
        "declaration": longest(MAX_TITLE),
        "dated": "0001-01-01",
        "characterization": longest(MAX_TITLE),
        "corrected_summary": "x",
        "planned": "9999-12-31",
        "postponed_to": "9999",
        "reason": longest(MAX_TEXT),
        "evidence": fullest_evidence(),
    }


@examples(40)
@example(given=session_at_the_bounds())
@given(given=sessions())
def test_every_session_accepted_is_projected_and_reads_back_as_accepted(
    pg_records: Records, projector: Projector, given: dict[str, Any]
) -> None:
    records, evidence = pg_records, given["evidence"]
    short = [Evidence(SOURCE, "said")]  # the many items are the held session's
    set_up(records)
    cid = f"bounds-{next(commission_numbers):06d}"
    records.establish_commission(
        id=cid,
        parties=list(PARTIES),
        names=given["names"],
        established_on=given["established_on"],
        mandate=given["mandate"],
        recorded_by=RECORDER,
    )
    co_chair = given["co_chair"]
    records.appoint_co_chair(
        cid,
        party=co_chair.party,
        name=co_chair.name,
        title=co_chair.title,
        since=given["since"],
        evidence=short,
        recorded_by=RECORDER,
    )
    key = str(given["ordinal"])
    records.record_convened_session(
        cid,
        ordinal=given["ordinal"],
        kind="plenary",
        format="hybrid",
        start=given["start"],
        end=given["end"],
        place=Place(given["city"], "AZ"),
        co_chairs=given["co_chairs"],
        topics=given["topics"],
        summary=given["summary"],
        evidence=evidence,
        recorded_by=RECORDER,
    )
    records.sign_protocol(
        cid,
        key,
        title=given["protocol_title"],
        signed_on=given["end"] or given["start"],
        signatories=given["signatories"],
        evidence=short,
        recorded_by=RECORDER,
    )
    records.reference_declaration(
        cid,
        key,
        title=given["declaration"],
        dated=given["dated"],
        characterization=given["characterization"],
        evidence=short,
        recorded_by=RECORDER,
    )
    summary = given["corrected_summary"]
    if given["summary"] is not None and nfc(summary) == nfc(given["summary"]):
        summary = fit(summary + "x", MAX_TEXT) if len(nfc(summary)) < MAX_TEXT else "x"
    records.correct_session(
        cid,
        key,
        changes={"summary": summary, "co_chairs": given["co_chairs"][:1]},
        reason=given["reason"],
        evidence=short,
        recorded_by=RECORDER,
    )
    records.schedule_session(
        cid,
        key="planned",
        kind="working_group",
        planned=given["planned"],
        evidence=short,
        recorded_by=RECORDER,
    )
    records.postpone_session(
        cid,
        "planned",
        reason=given["reason"],
        planned=given["postponed_to"],
        evidence=short,
        recorded_by=RECORDER,
    )

    assert_projected(projector)

    read_models = ReadModels(projector.store)
    commission = read_models.commission(cid, None)
    assert commission is not None
    assert commission["names"] == {tag: nfc(name) for tag, name in given["names"].items()}
    assert commission["mandate"] == (given["mandate"] and nfc(given["mandate"]))
    [tenure] = (read_models.co_chairs(cid, None, None) or {})["tenures"][co_chair.party]
    assert (tenure["name"], tenure["title"]) == (nfc(co_chair.name), nfc(co_chair.title))
    session = read_models.session(cid, key, None)
    assert session is not None
    assert session["ordinal"] == given["ordinal"]
    assert (session["start"], session["end"]) == (given["start"], given["end"])
    assert session["place"] == {"city": nfc(given["city"]), "country": "AZ"}
    assert session["summary"] == nfc(summary)
    assert session["co_chairs"] == [person_stored(p) for p in given["co_chairs"][:1]]
    assert session["topics"] == given["topics"]
    [correction] = session["corrections"]
    assert correction["before"]["co_chairs"] == [person_stored(p) for p in given["co_chairs"]]
    assert as_recorded(session["evidence"]) == stored(evidence) + stored(short)
    assert session["protocol"]["signatories"] == [person_stored(p) for p in given["signatories"]]
    [declaration] = session["declarations"]
    assert declaration["title"] == nfc(given["declaration"])
    assert declaration["dated"] == str(PartialDate.parse(given["dated"]))
    planned = read_models.session(cid, "planned", None)
    assert planned is not None
    assert planned["planned"] == (given["postponed_to"] or given["planned"])
    assert planned["reasons"] == [nfc(given["reason"])]
    timeline = read_models.timeline(cid, None, None, None, None, 500)
    assert timeline is not None
    assert len(timeline.items) == 4  # two sessions, the protocol, the declaration
    history = read_models.commission_history(cid, None, None, 500)
    assert history is not None
    assert len(history.items) == 8
    cited = read_models.declarations(None, None, None, 500).items
    assert any(nfc(given["declaration"]) == item["title"] for item in cited)


# --- just beyond the bounds -------------------------------------------------------------------

Command = Callable[[Records], object]
Spoiled = tuple[str, Command]


def report(records: Records, **changes: Any) -> StatisticRecorded:
    fields: dict[str, Any] = {
        "measure": "trade_turnover",
        "value_kind": "level",
        "value": "4.4E9",
        "unit": "USD",
        "qualifier": "approximately",
        "reporter": "AZ",
        "partner": "RU",
        "period": "2023",
        "evidence": [Evidence(SOURCE, "turnover")],
        **changes,
    }
    return records.report_statistic(COMMISSION, SESSION, recorded_by=RECORDER, **fields)


def convene(records: Records, **changes: Any) -> object:
    fields: dict[str, Any] = {
        "key": "2024-co-chairs",
        "kind": "co_chairs_meeting",
        "format": "videoconference",
        "start": "2024",
        "evidence": [Evidence(SOURCE, "met")],
        **changes,
    }
    return records.record_convened_session(COMMISSION, recorded_by=RECORDER, **fields)


def establish(records: Records, **changes: Any) -> object:
    fields: dict[str, Any] = {
        "id": "az-ru-beyond",
        "parties": list(PARTIES),
        "names": {"en": "Commission"},
        **changes,
    }
    return records.establish_commission(recorded_by=RECORDER, **fields)


def register(records: Records, **changes: Any) -> object:
    fields: dict[str, Any] = {
        "id": "beyond-source",
        "title": "Readout",
        "publisher": "A ministry",
        "language": "en",
        **changes,
    }
    return records.register_source(recorded_by=RECORDER, **fields)


def correct_value(text: str) -> Command:
    def correct(records: Records) -> object:
        # The statistic ``set_up`` reported.
        sid = next(iter(records.session(COMMISSION, SESSION).statistics))
        records.correct_statistic(
            sid, changes={"value": text}, reason="revised", recorded_by=RECORDER
        )
        return sid

    return correct


@st.composite
def spoiled(draw: st.DrawFn) -> Spoiled:
    """A command with one value (not a figure) just beyond its bound, and the field its
    refusal names."""
    kind = draw(
        st.sampled_from(
            [
                "ordinal",
                "evidence",
                "quote",
                "quoted",
                "remarks",
                "co_chairs",
                "co-chair name",
                "city",
                "names",
                "name by language",
                "language",
                "title",
                "year",
            ]
        )
    )
    if kind == "ordinal":
        ordinal = draw(st.sampled_from([0, -1, MAX_ORDINAL + 1, 2**31, 2**63, 10**30]))
        return "ordinal", lambda records: convene(records, key=None, ordinal=ordinal)
    if kind == "evidence":
        size = draw(st.integers(MAX_EVIDENCE + 1, MAX_EVIDENCE + 5))
        items = [Evidence(SOURCE, "turnover")] * size
        return "evidence", lambda records: report(records, evidence=items)
    if kind == "quote":
        quote = draw(too_long(MAX_QUOTE))
        return "evidence[0].quote", lambda records: report(
            records, evidence=[Evidence(SOURCE, quote)]
        )
    if kind == "quoted":  # each quote within its bound, all of them together not
        last = draw(too_long(MAX_QUOTED - 2 * MAX_QUOTE))
        quotes = [Evidence(SOURCE, "x" * MAX_QUOTE)] * 2 + [Evidence(SOURCE, last)]
        return "evidence", lambda records: report(records, evidence=quotes)
    if kind == "remarks":
        remarks = draw(too_long(MAX_TEXT))
        return "remarks", lambda records: report(records, remarks=remarks)
    if kind == "co_chairs":
        crowd = [Representative("AZ", "N", "T")] * draw(st.integers(MAX_LIST + 1, MAX_LIST + 3))
        return "co_chairs", lambda records: convene(records, co_chairs=crowd)
    if kind == "co-chair name":
        name = draw(too_long(MAX_NAME))
        person = Representative("RU", name, "Deputy Prime Minister")
        return "co_chairs[0].name", lambda records: convene(records, co_chairs=[person])
    if kind == "city":
        city = draw(too_long(MAX_NAME))
        return "place.city", lambda records: convene(records, place=Place(city, "AZ"))
    if kind == "names":
        many = {f"en-{n:05d}": "Commission" for n in range(draw(st.integers(101, 103)))}
        return "names", lambda records: establish(records, names=many)
    if kind == "name by language":
        name = draw(too_long(MAX_TITLE))
        return "names.ru", lambda records: establish(records, names={"ru": name})
    if kind == "language":
        tag = LONGEST_TAG + draw(st.sampled_from(["f", "-abcde"]))
        return "language", lambda records: register(records, language=tag)
    if kind == "title":
        title = draw(too_long(MAX_TITLE))
        return "title", lambda records: register(records, title=title)
    day = draw(st.sampled_from(["0000", "0000-12", "0000-Q4", "10000", "99999-01-01"]))
    return "planned", lambda records: records.schedule_session(
        COMMISSION,
        key="beyond",
        kind="working_group",
        planned=day,
        evidence=[Evidence(SOURCE, "planned")],
        recorded_by=RECORDER,
    )


def assert_refused(records: Records, projector: Projector, field: str, command: Command) -> None:
    """The command is refused naming ``field``, briefly, and stores nothing."""
    stored_before = records.recorder.max_notification_id()
    with pytest.raises(InvalidCommandError) as caught:
        command(records)
    assert records.recorder.max_notification_id() == stored_before
    problems = caught.value.problems
    assert field in [problem.field for problem in problems], problems
    assert all(len(problem.message) < 300 for problem in problems)
    assert_projected(projector)


@examples(60)
@example(figure="0E-16384", corrected=False)  # the review's findings
@example(figure="0E-100000000", corrected=False)
@example(figure="0E-16384", corrected=True)
@example(figure="0E-19", corrected=False)
@example(figure="0E+18", corrected=True)
@example(figure="1" * (MAX_DIGITS + 1), corrected=False)
@given(figure=figures_beyond(), corrected=st.booleans())
def test_every_figure_beyond_the_bounds_is_refused_naming_it_and_changes_nothing(
    pg_records: Records, projector: Projector, figure: str, corrected: bool
) -> None:
    set_up(pg_records)
    if corrected:
        assert_refused(pg_records, projector, "changes.value", correct_value(figure))
    else:
        assert_refused(
            pg_records, projector, "value", lambda records: report(records, value=figure)
        )


@examples(80)
@given(case=spoiled())
def test_every_other_value_beyond_a_bound_is_refused_naming_its_field_and_changes_nothing(
    pg_records: Records, projector: Projector, case: Spoiled
) -> None:
    set_up(pg_records)
    assert_refused(pg_records, projector, *case)
