"""A session and a commission filled to every bound of their growth, with the largest facts
allowed, in the order that writes the most: every read model projects them, none stalls, and
their largest rows and all their versions stay within the sizes estimated beside the bounds
(``domain/values.py``).

The text is the worst case for size: every character four bytes in UTF-8 (CJK Extension B),
drawn at random so that it does not compress. Sizes are of each row as JSON text, which is
what jsonb holds before compression.
"""

from __future__ import annotations

import random
from typing import Any
from uuid import UUID

import pytest
from psycopg import sql

from domain.application import Command, Recorded, Records
from domain.values import (
    MAX_DECLARATIONS,
    MAX_EVIDENCE,
    MAX_LIST,
    MAX_NAME,
    MAX_POSTPONEMENTS,
    MAX_QUOTED,
    MAX_SESSION_CORRECTIONS,
    MAX_STATISTIC_CORRECTIONS,
    MAX_STATISTICS,
    MAX_TENURES,
    MAX_TEXT,
    MAX_TITLE,
    TOPICS,
    Evidence,
    Place,
    Representative,
)
from projections.runner import Projector

pytestmark = pytest.mark.postgres

RECORDER = "growth"
SOURCE = ("readout-" * 8)[:63] + "x"  # an id of the most characters (64), without text
COMMISSION = "az-ru-growth"
SESSION = "k" * 64
PARTIES = ("AZ", "RU")

# The estimates beside the bounds, in bytes.
SESSION_ROW = 8_300_000
SESSION_VERSIONS = 220_000_000
CO_CHAIRS_ROW = 2_100_000
CO_CHAIRS_VERSIONS = 90_000_000
STATISTIC_ROW = 320_000
STATISTIC_VERSIONS = 2_400_000


class Text:
    """Text of four bytes a character that does not compress: slices of one random draw."""

    def __init__(self) -> None:
        draw = random.Random(19)
        self.pool = "".join(chr(draw.randint(0x20000, 0x2A6DF)) for _ in range(200_000))
        self.offset = 0

    def __call__(self, length: int, prefix: str = "") -> str:
        length -= len(prefix)
        if self.offset + length > len(self.pool):
            self.offset = 0
        self.offset += length
        return prefix + self.pool[self.offset - length : self.offset]


@pytest.fixture
def text() -> Text:
    return Text()


def largest_evidence(text: Text) -> list[Evidence]:
    """The most items, of the longest source id, quoting together as much as a fact may."""
    return [Evidence(SOURCE, text(MAX_QUOTED // MAX_EVIDENCE)) for _ in range(MAX_EVIDENCE)]


def most_people(text: Text) -> list[Representative]:
    return [
        Representative(PARTIES[i % 2], text(MAX_NAME), text(MAX_TITLE)) for i in range(MAX_LIST)
    ]


def fill_the_co_chairs(records: Records, text: Text) -> None:
    """Appoints every co-chair a commission may have, then ends each tenure."""
    for number in range(MAX_TENURES):
        records.appoint_co_chair(
            COMMISSION,
            party=PARTIES[number % 2],
            name=text(MAX_NAME, prefix=f"{number} "),
            title=text(MAX_TITLE),
            since="2001",
            evidence=largest_evidence(text),
            recorded_by=RECORDER,
        )
    for tenure in records.commission(COMMISSION).tenures:
        records.end_co_chair_tenure(
            COMMISSION,
            party=tenure.party,
            name=tenure.name,
            until="2002",
            evidence=largest_evidence(text),
            recorded_by=RECORDER,
        )


def fill_the_session(records: Records, text: Text) -> None:
    """Schedules, postpones, holds and corrects the session as often as it may be, and only
    then adds its protocol and declarations: each of them copies the corrections."""
    records.schedule_session(
        COMMISSION,
        key=SESSION,
        kind="co_chairs_meeting",
        planned="2099-12-31",
        place=Place(text(MAX_NAME), "AZ"),
        evidence=largest_evidence(text),
        recorded_by=RECORDER,
    )
    for _ in range(MAX_POSTPONEMENTS):
        records.postpone_session(
            COMMISSION,
            SESSION,
            reason=text(MAX_TEXT),
            planned="2099-12-30",
            evidence=largest_evidence(text),
            recorded_by=RECORDER,
        )
    records.convene_session(
        COMMISSION,
        SESSION,
        kind="co_chairs_meeting",
        format="videoconference",
        start="2001-01-01",
        end="2001-01-02",
        place=Place(text(MAX_NAME), "AZ"),
        co_chairs=most_people(text),
        topics=list(TOPICS),
        summary=text(MAX_TEXT),
        evidence=largest_evidence(text),
        recorded_by=RECORDER,
    )
    for number in range(MAX_SESSION_CORRECTIONS):
        # Every field changes, so that the correction keeps all of the record twice.
        records.correct_session(
            COMMISSION,
            SESSION,
            changes={
                "kind": ("working_group", "co_chairs_meeting")[number % 2],
                "format": ("in_person", "videoconference")[number % 2],
                "start": f"2001-01-{3 + number:02d}",
                "end": f"2001-02-{3 + number:02d}",
                "planned": f"2099-11-{10 + number}",
                "place": Place(text(MAX_NAME), "RU"),
                "co_chairs": most_people(text),
                "topics": list(TOPICS)[:: (-1, 1)[number % 2]],
                "summary": text(MAX_TEXT),
            },
            reason=text(MAX_TEXT),
            evidence=largest_evidence(text),
            recorded_by=RECORDER,
        )
    records.sign_protocol(
        COMMISSION,
        SESSION,
        title=text(MAX_TITLE),
        signed_on="2001-03-01",
        signatories=most_people(text),
        evidence=largest_evidence(text),
        recorded_by=RECORDER,
    )
    for number in range(MAX_DECLARATIONS):
        records.reference_declaration(
            COMMISSION,
            SESSION,
            title=text(MAX_TITLE, prefix=f"{number} "),
            dated="2000-01-01",
            characterization=text(MAX_TITLE),
            evidence=largest_evidence(text),
            recorded_by=RECORDER,
        )


def fill_the_statistics(records: Records, text: Text) -> UUID:
    """Reports every statistic a session may hold, the largest there are, recorded together
    (a hundred to a transaction); then corrects the first as often as it may be, and retracts
    it. Returns its id."""

    def report() -> Recorded[Any]:
        return records.report_statistic(
            COMMISSION,
            SESSION,
            measure="exports",
            value_kind="level",
            value="999999999999999999.999999",
            unit="USD",
            qualifier="approximately",
            reporter="AZ",
            partner="RU",
            period="0001-01-01/2000-12-31",
            stated_by="RU",
            remarks=text(MAX_TEXT),
            evidence=largest_evidence(text),
            recorded_by=RECORDER,
        )

    for _ in range(MAX_STATISTICS // 100):
        outcomes = records.record_together([Command(report) for _ in range(100)])
        assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    first = next(iter(records.session(COMMISSION, SESSION).statistics))
    for _ in range(MAX_STATISTIC_CORRECTIONS):
        records.correct_statistic(
            first,
            changes={"remarks": text(MAX_TEXT)},
            reason=text(MAX_TEXT),
            evidence=largest_evidence(text),
            recorded_by=RECORDER,
        )
    records.retract_statistic(first, reason=text(MAX_TEXT), recorded_by=RECORDER)
    return first


def sizes(projector: Projector, model: str, table: str, **key: object) -> tuple[int, int]:
    """The largest of the rows of ``key`` (every version of it), and all of them together, as
    JSON text, in bytes."""
    schema = projector.store.live()[model].schema
    where = sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in key)
    with projector.store.transaction() as cursor:
        cursor.execute(
            sql.SQL(
                "SELECT max(octet_length(to_jsonb(t)::text)) AS largest, "
                "sum(octet_length(to_jsonb(t)::text)) AS together FROM {}.{} t WHERE {}"
            ).format(sql.Identifier(schema), sql.Identifier(table), where),
            list(key.values()),
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row["largest"]), int(row["together"])


def test_a_session_and_a_commission_filled_to_their_bounds_are_projected_within_the_estimates(
    pg_records: Records, projector: Projector, text: Text
) -> None:
    records = pg_records
    records.register_source(
        id=SOURCE, title="Readout", publisher="A ministry", language="en", recorded_by=RECORDER
    )
    records.establish_commission(
        id=COMMISSION, parties=list(PARTIES), names={"en": "Commission"}, recorded_by=RECORDER
    )
    fill_the_co_chairs(records, text)
    fill_the_session(records, text)
    corrected = fill_the_statistics(records, text)

    projector.catch_up()

    last = projector.store.max_position()
    live = projector.store.live()
    assert {name: (g.position, g.stall) for name, g in live.items()} == dict.fromkeys(
        projector.models, (last, None)
    )
    session_row, session_versions = sizes(
        projector, "sessions", "sessions", commission=COMMISSION, key=SESSION
    )
    assert session_row <= SESSION_ROW
    assert session_versions <= SESSION_VERSIONS
    co_chairs_row, co_chairs_versions = sizes(
        projector, "commissions", "co_chairs", commission=COMMISSION
    )
    assert co_chairs_row <= CO_CHAIRS_ROW
    assert co_chairs_versions <= CO_CHAIRS_VERSIONS
    statistic_row, statistic_versions = sizes(projector, "statistics", "statistics", id=corrected)
    assert statistic_row <= STATISTIC_ROW
    assert statistic_versions <= STATISTIC_VERSIONS
    # And this is the case the estimates are of, not a smaller one that proves nothing.
    assert session_row > 0.95 * SESSION_ROW
    assert co_chairs_row > 0.95 * CO_CHAIRS_ROW
    assert statistic_row > 0.95 * STATISTIC_ROW
