"""Fixtures and helpers for the domain's unit tests: an in-memory record and a few ready facts.

The record under test is AZ–RU: commission ``az-ru-economic``, a source whose text the tests
wrote themselves (so quotes can be checked against it), a source registered without text, and
session 22, held in Baku in 2024.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

import pytest

from domain.application import Records, StatisticRecorded, today
from domain.errors import FieldProblem, InvalidCommandError
from domain.values import Evidence, Place, Representative

COMMISSION = "az-ru-economic"
SESSION = "22"
SOURCE = "azertac-2024-22nd-session"
UNTEXTED_SOURCE = "mid-ru-2024-readout"
RECORDER = "analyst@example.org"

#: Written for these tests in the manner of a news agency's report; not the seed article.
SOURCE_TEXT = """\
Baku hosted the 22nd meeting of the Intergovernmental Commission on economic cooperation.
The meeting was co-chaired by Deputy Prime Minister Shahin Mustafayev and Deputy Prime Minister
Alexei Overchuk.

Last year the trade turnover   grew by 17.5 percent
to a record of about 4.4 billion US dollars.
More than 260 agreements have been signed. Şəki and Qəbələ were mentioned as tourist towns.
"""

QUOTE = "grew by 17.5 percent to a record of about 4.4 billion US dollars"

AZ_CO_CHAIR = Representative(
    "AZ", "Shahin Mustafayev", "Deputy Prime Minister of the Republic of Azerbaijan"
)
RU_CO_CHAIR = Representative(
    "RU", "Alexei Overchuk", "Deputy Prime Minister of the Russian Federation"
)
BAKU = Place("Baku", "AZ")


def evidence(quote: str = QUOTE, source: str = SOURCE) -> list[Evidence]:
    """One item of evidence: a quote of the source the tests wrote."""
    return [Evidence(source, quote)]


def tomorrow() -> str:
    """The day after the day of recording, as the record counts days (UTC)."""
    return (today() + timedelta(days=1)).isoformat()


def stored_events(app: Records) -> int:
    """How many events the record holds: the position of the last one in the log."""
    return app.recorder.max_notification_id() or 0


@contextmanager
def unchanged(app: Records) -> Iterator[None]:
    """Asserts the block stores no event (use it around ``pytest.raises``)."""
    before = stored_events(app)
    yield
    assert stored_events(app) == before, "a refused command stored events"


@dataclass
class Refusal:
    """What a refused command was told, filled in once the command has been refused."""

    problems: list[FieldProblem] = field(default_factory=list)

    @property
    def fields(self) -> list[str]:
        return [problem.field for problem in self.problems]

    def message(self, name: str) -> str:
        return " ".join(problem.message for problem in self.problems if problem.field == name)


@contextmanager
def refused(app: Records, *fields: str) -> Iterator[Refusal]:
    """Asserts the block is refused as invalid, naming exactly ``fields``, and stores nothing."""
    before = stored_events(app)
    refusal = Refusal()
    with pytest.raises(InvalidCommandError) as caught:
        yield refusal
    refusal.problems = list(caught.value.problems)
    assert refusal.fields == list(fields), str(caught.value)
    assert stored_events(app) == before, "a refused command stored events"


@pytest.fixture
def empty() -> Records:
    """A record with nothing in it, on the in-memory event store."""
    return Records({"PERSISTENCE_MODULE": "eventsourcing.popo"})


def set_up_record(app: Records) -> Records:
    app.register_source(
        id=SOURCE,
        title="Baku hosts the 22nd meeting of the intergovernmental commission",
        publisher="Azerbaijan State News Agency",
        language="en",
        url="https://example.org/azertac/22nd-meeting",
        published_on="2024",
        text=SOURCE_TEXT,
        recorded_by=RECORDER,
    )
    app.register_source(
        id=UNTEXTED_SOURCE,
        title="On the 22nd meeting of the commission",
        publisher="Ministry of Foreign Affairs of the Russian Federation",
        language="ru",
        recorded_by=RECORDER,
    )
    app.establish_commission(
        id=COMMISSION,
        parties=["AZ", "RU"],
        names={"en": "Azerbaijan–Russia Intergovernmental Commission on Economic Cooperation"},
        recorded_by=RECORDER,
    )
    for co_chair in (AZ_CO_CHAIR, RU_CO_CHAIR):
        app.appoint_co_chair(
            COMMISSION,
            party=co_chair.party,
            name=co_chair.name,
            title=co_chair.title,
            evidence=evidence("co-chaired by Deputy Prime Minister"),
            recorded_by=RECORDER,
        )
    app.record_convened_session(
        COMMISSION,
        ordinal=22,
        kind="plenary",
        format="in_person",
        start="2024",
        place=BAKU,
        co_chairs=[AZ_CO_CHAIR, RU_CO_CHAIR],
        topics=["trade", "transport", "tourism"],
        evidence=evidence("Baku hosted the 22nd meeting"),
        recorded_by=RECORDER,
    )
    return app


@pytest.fixture
def app(empty: Records) -> Records:
    """The AZ–RU record: both sources, the commission with its two serving co-chairs, and
    session 22, held in Baku in 2024."""
    return set_up_record(empty)


def report_turnover(app: Records, *, value: str = "4.4E9", key: str = SESSION) -> UUID:
    """Reports the 2023 AZ–RU turnover at a session; returns the new statistic's id."""
    return turnover_reported(app, value=value, key=key).statistic_id


def turnover_reported(
    app: Records, *, value: str = "4.4E9", key: str = SESSION, expected_version: int | None = None
) -> StatisticRecorded:
    """Reports the 2023 AZ–RU turnover at a session; returns what the record answered."""
    return app.report_statistic(
        COMMISSION,
        key,
        measure="trade_turnover",
        value_kind="level",
        value=value,
        unit="USD",
        qualifier="approximately",
        reporter="AZ",
        partner="RU",
        period="2023",
        stated_by="AZ",
        evidence=evidence(),
        recorded_by=RECORDER,
        expected_version=expected_version,
    )


def schedule(app: Records, key: str = "2099-co-chairs", planned: str = "2099-Q4") -> str:
    """Schedules a co-chairs' meeting; returns its key."""
    app.schedule_session(
        COMMISSION,
        key=key,
        kind="co_chairs_meeting",
        planned=planned,
        evidence=evidence("Baku hosted"),
        recorded_by=RECORDER,
    )
    return key
