"""The read models of the record: what each keeps, and how each event changes it.

Each model owns its tables (in the schema of its generation) and handles the events it needs,
keeping its own copy of any fact it needs from another stream (which session a stream is), so
it can be rebuilt alone. Handlers read an event as a :class:`~projections.values.Recorded`:
its data as JSON, which is what the tables store. Before a batch is applied, each model names
the rows its events will read (``prefetch``), and the batch reads them in one query per
table. An event that opens a stream creates its rows without looking for earlier ones.

Each model's DDL has two parts: its tables with the indexes its writes need (``ddl``), and the
indexes only its queries need (``indexes``), which a rebuild builds once the log is loaded.
Bump a model's ``version`` whenever its tables or handlers change: a generation built by other
code is rebuilt, beside the live one, on the next start.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import DomainEvent
from psycopg import sql

from domain.base import catalogue_name
from domain.commission import Commission, same_person
from domain.session import Session, corrected_evidence
from domain.values import SearchableText, normalize
from projections.batch import VALIDITY_COLUMNS, Batch, Table
from projections.values import (
    Recorded,
    Span,
    date_span,
    decimal_text,
    period_span,
    plain,
    timestamp,
)

Handler = Callable[[Batch, Recorded], None]


def event_name(event_class: type) -> str:
    """The catalogue's name for the events of a class (an empty one is named like any)."""
    return catalogue_name(object.__new__(event_class))


def catalogue_of(aggregate: type) -> frozenset[str]:
    """The catalogue names of an aggregate's events."""
    return frozenset(
        event_name(member)
        for member in vars(aggregate).values()
        if isinstance(member, type) and issubclass(member, DomainEvent)
    )


SESSION_EVENTS = catalogue_of(Session)
COMMISSION_EVENTS = catalogue_of(Commission)


class ReadModel:
    """A read model: tables, and a handler per catalogue event name (``on_SessionConvened``)."""

    name: ClassVar[str]
    version: ClassVar[int]
    tables: ClassVar[tuple[Table, ...]]
    ddl: ClassVar[str]
    indexes: ClassVar[str] = ""
    # A rebuild of a long log loads this model in a process of its own, beside the others:
    # for a model that takes about as long to load as all the others together.
    rebuild_apart: ClassVar[bool] = False

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {
            attribute.removeprefix("on_"): getattr(self, attribute)
            for attribute in dir(self)
            if attribute.startswith("on_")
        }

    def handles(self, name: str) -> bool:
        return name in self.handlers

    def prefetch(self, batch: Batch, events: Sequence[Recorded]) -> None:
        """Reads, one query per table, the rows the events will read (none by default)."""

    def apply(self, batch: Batch, event: Recorded) -> None:
        handler = self.handlers.get(event.name)
        if handler is not None:
            handler(batch, event)

    def create_statements(self, schema: str) -> str:
        """The tables, with the indexes their writes need."""
        return self.ddl.format(schema=f'"{schema}"', validity=VALIDITY_COLUMNS)

    def index_statements(self, schema: str) -> str:
        """The indexes only queries need."""
        return self.indexes.format(schema=f'"{schema}"')


# --- which session a stream is --------------------------------------------------------------

SESSION_STREAMS = Table("session_streams", ("stream",), ("commission", "session_key"), False)
SESSION_STREAMS_DDL = """
CREATE TABLE {schema}.session_streams (
    stream uuid PRIMARY KEY, commission text NOT NULL, session_key text NOT NULL
);
"""


def remember_session(batch: Batch, event: Recorded) -> None:
    """Remembers which session a stream is, when its first event opens it."""
    if event.version == 1:
        batch.create(
            SESSION_STREAMS,
            (event.stream,),
            {"commission": event.data["commission"], "session_key": event.data["key"]},
            event.recorded_at,
            event.position,
        )


def sessions_of(batch: Batch, events: Iterable[Recorded]) -> dict[UUID, tuple[str, str]]:
    """Which session each session stream of the events is: said by the event that opens the
    stream when it is among them, else read (one query for them all)."""
    sessions: dict[UUID, tuple[str, str]] = {}
    others: set[tuple[UUID]] = set()
    for event in events:
        if event.name in SESSION_EVENTS:
            if event.version == 1:
                sessions[event.stream] = (event.data["commission"], event.data["key"])
            else:
                others.add((event.stream,))
    others.difference_update((stream,) for stream in sessions)
    batch.prefetch(SESSION_STREAMS, others)
    for key in others:
        row = batch.get(SESSION_STREAMS, key)
        if row is not None:
            sessions[key[0]] = (row["commission"], row["session_key"])
    return sessions


def session_of(batch: Batch, event: Recorded) -> tuple[str, str]:
    row = batch.get(SESSION_STREAMS, (event.stream,))
    assert row is not None, f"event of unknown session stream {event.stream}"
    return row["commission"], row["session_key"]


def session_date(row: dict[str, Any]) -> Span:
    """The date a session concerns: its start when held, else its planned date."""
    return date_span(row.get("start") or row.get("planned") or None)


# --- commissions, co-chairs and sources ---------------------------------------------------

TENURE_EVENTS = ("CoChairAppointed", "CoChairTenureEnded")


class CommissionsModel(ReadModel):
    """Commissions with their parties and names; co-chair tenures; sources."""

    name = "commissions"
    version = 3
    commissions = Table(
        "commissions",
        ("id",),
        ("party_a", "party_b", "names", "established_on", "mandate", "recorded_by"),
    )
    co_chairs = Table("co_chairs", ("commission",), ("tenures",))
    commission_streams = Table("commission_streams", ("stream",), ("commission",), False)
    sources = Table(
        "sources",
        ("id",),
        ("title", "publisher", "url", "language", "published_on", "sha256", "recorded_by"),
    )
    tables = (commissions, co_chairs, commission_streams, sources)
    ddl = """
    CREATE TABLE {schema}.commissions (
        id text NOT NULL, party_a text NOT NULL, party_b text NOT NULL, names jsonb NOT NULL,
        established_on text, mandate text, recorded_by text, {validity}
    );
    CREATE UNIQUE INDEX ON {schema}.commissions (id) WHERE valid_to IS NULL;
    CREATE TABLE {schema}.co_chairs (commission text NOT NULL, tenures jsonb NOT NULL, {validity});
    CREATE UNIQUE INDEX ON {schema}.co_chairs (commission) WHERE valid_to IS NULL;
    CREATE TABLE {schema}.commission_streams (stream uuid PRIMARY KEY, commission text NOT NULL);
    CREATE TABLE {schema}.sources (
        id text NOT NULL, title text NOT NULL, publisher text NOT NULL, url text,
        language text NOT NULL, published_on text, sha256 text, recorded_by text, {validity}
    );
    CREATE UNIQUE INDEX ON {schema}.sources (id) WHERE valid_to IS NULL;
    """
    indexes = """
    CREATE INDEX ON {schema}.commissions (id, valid_from);
    CREATE INDEX ON {schema}.commissions (party_a, party_b);
    CREATE INDEX ON {schema}.co_chairs (commission, valid_from);
    """

    def prefetch(self, batch: Batch, events: Sequence[Recorded]) -> None:
        tenures = [event for event in events if event.name in TENURE_EVENTS]
        batch.prefetch(self.commission_streams, {(event.stream,) for event in tenures})
        commissions = (self._known_commission(batch, event) for event in tenures)
        batch.prefetch(self.co_chairs, {(slug,) for slug in commissions if slug is not None})

    def on_SourceRegistered(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        data = event.data
        batch.create(
            self.sources,
            (data["slug"],),
            {
                "title": data["title"],
                "publisher": data["publisher"],
                "url": data["url"],
                "language": data["language"],
                "published_on": data["published_on"],
                "sha256": data["sha256"],
                "recorded_by": event.recorded_by,
            },
            event.recorded_at,
            event.position,
        )

    def on_SourceTextRegistered(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        key = (event.data["slug"],)
        row = batch.get(self.sources, key)
        assert row is not None, f"no source {key[0]}"
        row["sha256"] = event.data["sha256"]
        batch.put(self.sources, key, row, event.recorded_at, event.position)

    def on_CommissionEstablished(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        data = event.data
        party_a, party_b = sorted(data["parties"])
        at, position = event.recorded_at, event.position
        batch.create(
            self.commission_streams, (event.stream,), {"commission": data["slug"]}, at, position
        )
        batch.create(
            self.commissions,
            (data["slug"],),
            {
                "party_a": party_a,
                "party_b": party_b,
                "names": data["names"],
                "established_on": data["established_on"],
                "mandate": data["mandate"],
                "recorded_by": event.recorded_by,
            },
            at,
            position,
        )
        batch.create(self.co_chairs, (data["slug"],), {"tenures": []}, at, position)

    def on_CoChairAppointed(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        data = event.data
        commission = self._commission(batch, event)
        tenures = self._tenures(batch, commission)
        since, since_first, _ = date_span(data["since"])
        tenures.append(
            {
                "party": data["party"],
                "name": data["name"],
                "title": data["title"],
                "since": since,
                "since_first": plain(since_first),
                "until": None,
                "until_last": None,
                "evidence": data["evidence"],
                "appointed_at": event.position,
            }
        )
        batch.put(
            self.co_chairs, (commission,), {"tenures": tenures}, event.recorded_at, event.position
        )

    def on_CoChairTenureEnded(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        data = event.data
        commission = self._commission(batch, event)
        tenures = self._tenures(batch, commission)
        until, _, until_last = date_span(data["until"])
        for tenure in tenures:
            if (
                tenure["party"] == data["party"]
                and tenure["until"] is None
                and same_person(tenure["name"], data["name"])
            ):
                tenure["until"] = until
                tenure["until_last"] = plain(until_last)
                tenure["evidence"] = tenure["evidence"] + data["evidence"]
                break
        batch.put(
            self.co_chairs, (commission,), {"tenures": tenures}, event.recorded_at, event.position
        )

    def _known_commission(self, batch: Batch, event: Recorded) -> str | None:
        row = batch.get(self.commission_streams, (event.stream,))
        return None if row is None else str(row["commission"])

    def _commission(self, batch: Batch, event: Recorded) -> str:
        commission = self._known_commission(batch, event)
        assert commission is not None, f"event of unknown commission stream {event.stream}"
        return commission

    def _tenures(self, batch: Batch, commission: str) -> list[dict[str, Any]]:
        row = batch.get(self.co_chairs, (commission,))
        return [dict(tenure) for tenure in (row["tenures"] if row else [])]


# --- sessions -----------------------------------------------------------------------------


class SessionsModel(ReadModel):
    """Each session's own record: status, dates, place, co-chairs, protocol, declarations."""

    name = "sessions"
    version = 2
    sessions = Table(
        "sessions",
        ("commission", "key"),
        (
            "ordinal",
            "kind",
            "status",
            "format",
            "start",
            "end",
            "planned",
            "date",
            "date_first",
            "date_last",
            "place",
            "co_chairs",
            "topics",
            "summary",
            "reasons",
            "evidence",
            "protocol",
            "declarations",
            "corrections",
            "recorded_by",
        ),
    )
    tables = (sessions, SESSION_STREAMS)
    ddl = (
        SESSION_STREAMS_DDL
        + """
    CREATE TABLE {schema}.sessions (
        commission text NOT NULL, key text NOT NULL, ordinal integer, kind text NOT NULL,
        status text NOT NULL, format text, start text, "end" text, planned text,
        date text, date_first date, date_last date, place jsonb, co_chairs jsonb NOT NULL,
        topics jsonb NOT NULL, summary text, reasons jsonb NOT NULL, evidence jsonb NOT NULL,
        protocol jsonb, declarations jsonb NOT NULL, corrections jsonb NOT NULL,
        recorded_by text, {validity}
    );
    CREATE UNIQUE INDEX ON {schema}.sessions (commission, key) WHERE valid_to IS NULL;
    """
    )
    indexes = """
    CREATE INDEX ON {schema}.sessions (commission, date_first, date_last);
    CREATE INDEX ON {schema}.sessions (commission, key, valid_from);
    """

    def prefetch(self, batch: Batch, events: Sequence[Recorded]) -> None:
        sessions = sessions_of(batch, events)
        batch.prefetch(
            self.sessions,
            {
                sessions[event.stream]
                for event in events
                if self.handles(event.name) and event.version > 1 and event.stream in sessions
            },
        )

    def on_SessionScheduled(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        data = event.data
        remember_session(batch, event)
        row = {
            "ordinal": data["ordinal"],
            "kind": data["kind"],
            "status": "scheduled",
            "planned": data["planned"],
            "place": data["place"],
            "co_chairs": [],
            "topics": [],
            "reasons": [],
            "evidence": data["evidence"],
            "declarations": [],
            "corrections": [],
        }
        self._put(batch, event, (data["commission"], data["key"]), row)

    def on_SessionConvened(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        data = event.data
        remember_session(batch, event)
        key = (data["commission"], data["key"])
        # Held as scheduled, or recorded only once held (the event then opens the stream).
        row = batch.get(self.sessions, key) if event.version > 1 else None
        if row is None:
            row = {
                "planned": None,
                "reasons": [],
                "evidence": [],
                "declarations": [],
                "corrections": [],
            }
        row.update(
            ordinal=data["ordinal"],
            kind=data["kind"],
            status="convened",
            format=data["format"],
            start=data["start"],
            end=data["end"],
            place=data["place"],
            co_chairs=data["co_chairs"],
            topics=data["topics"],
            summary=data["summary"],
            evidence=row["evidence"] + data["evidence"],
        )
        self._put(batch, event, key, row)

    def on_SessionPostponed(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        data = event.data
        key, row = self._current(batch, event)
        row["status"] = "postponed"
        if data["planned"] is not None:
            row["planned"] = data["planned"]
        row["reasons"] = [*row["reasons"], data["reason"]]
        row["evidence"] = row["evidence"] + data["evidence"]
        self._put(batch, event, key, row)

    def on_SessionCancelled(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        data = event.data
        key, row = self._current(batch, event)
        row["status"] = "cancelled"
        row["reasons"] = [*row["reasons"], data["reason"]]
        row["evidence"] = row["evidence"] + data["evidence"]
        self._put(batch, event, key, row)

    def on_SessionCorrected(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        data = event.data
        key, row = self._current(batch, event)
        changes: dict[str, Any] = data["changes"]
        before = {name: row.get(name) for name in changes}
        row.update(changes)
        row["evidence"] = row["evidence"] + data["evidence"]
        row["corrections"] = [
            *row["corrections"],
            {
                "position": event.position,
                "recorded_at": timestamp(event.recorded_at),
                "recorded_by": event.recorded_by,
                "reason": data["reason"],
                "before": before,
                "after": changes,
            },
        ]
        self._put(batch, event, key, row)

    def on_ProtocolSigned(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        data = event.data
        key, row = self._current(batch, event)
        row["protocol"] = {
            "title": data["title"],
            "signed_on": data["signed_on"],
            "signatories": data["signatories"],
            "evidence": data["evidence"],
        }
        self._put(batch, event, key, row)

    def on_DeclarationReferenced(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        data = event.data
        key, row = self._current(batch, event)
        row["declarations"] = [
            *row["declarations"],
            {
                "title": data["title"],
                "dated": data["dated"],
                "characterization": data["characterization"],
                "evidence": data["evidence"],
            },
        ]
        self._put(batch, event, key, row)

    def _current(self, batch: Batch, event: Recorded) -> tuple[tuple[str, str], dict[str, Any]]:
        key = session_of(batch, event)
        row = batch.get(self.sessions, key)
        assert row is not None, f"no session {key}"
        return key, row

    def _put(
        self, batch: Batch, event: Recorded, key: tuple[str, str], row: dict[str, Any]
    ) -> None:
        row["date"], row["date_first"], row["date_last"] = session_date(row)
        row["recorded_by"] = event.recorded_by
        write = batch.create if event.version == 1 else batch.put
        write(self.sessions, key, row, event.recorded_at, event.position)


# --- statistics ---------------------------------------------------------------------------

STATISTIC_CHANGES = ("StatisticCorrected", "StatisticRetracted")
# The statistics and the history read each statistic's id from the same events: the text of
# each is parsed once.
statistic_id = lru_cache(maxsize=65_536)(UUID)


def statistic_values(fields: dict[str, Any]) -> dict[str, Any]:
    """A statistic's fields as columns: the value as numeric and text, the period as days."""
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "value":
            values["value"] = Decimal(value)
            values["value_text"] = decimal_text(values["value"])
        elif name == "period":
            values["period"], values["period_first"], values["period_last"] = period_span(value)
        else:
            values[name] = value
    return values


class StatisticsModel(ReadModel):
    """Every version of every statistic: reported, corrected, retracted."""

    name = "statistics"
    version = 6
    rebuild_apart = True
    statistics = Table(
        "statistics",
        ("id",),
        (
            "commission",
            "session_key",
            "party_a",
            "party_b",
            "measure",
            "value_kind",
            "value",
            "value_text",
            "unit",
            "qualifier",
            "reporter",
            "partner",
            "period",
            "period_first",
            "period_last",
            "stated_by",
            "remarks",
            "evidence",
            "superseded_evidence",
            "revision",
            "retracted",
            "change",
            "reason",
            "recorded_by",
            "first_position",
        ),
    )
    commission_parties = Table("commission_parties", ("commission",), ("party_a", "party_b"), False)
    tables = (statistics, commission_parties, SESSION_STREAMS)
    ddl = (
        SESSION_STREAMS_DDL
        + """
    CREATE TABLE {schema}.commission_parties (
        commission text PRIMARY KEY, party_a text NOT NULL, party_b text NOT NULL
    );
    CREATE TABLE {schema}.statistics (
        id uuid NOT NULL, commission text NOT NULL, session_key text NOT NULL,
        party_a text NOT NULL, party_b text NOT NULL, measure text NOT NULL,
        value_kind text NOT NULL, value numeric NOT NULL, value_text text NOT NULL,
        unit text NOT NULL, qualifier text NOT NULL, reporter text, partner text,
        period text, period_first date, period_last date, stated_by text, remarks text,
        evidence jsonb NOT NULL, superseded_evidence jsonb NOT NULL,
        revision integer NOT NULL, retracted boolean NOT NULL,
        change text NOT NULL, reason text, recorded_by text, first_position bigint NOT NULL,
        {validity}
    );
    CREATE UNIQUE INDEX ON {schema}.statistics (id) WHERE valid_to IS NULL;
    """
    )
    indexes = """
    CREATE INDEX ON {schema}.statistics (id, valid_from);
    CREATE INDEX ON {schema}.statistics (party_a, party_b, measure, value_kind);
    CREATE INDEX ON {schema}.statistics (commission, session_key);
    CREATE INDEX ON {schema}.statistics (commission, period_first);
    CREATE INDEX ON {schema}.statistics (first_position) WHERE valid_to IS NULL;
    CREATE INDEX ON {schema}.statistics (measure, first_position) WHERE valid_to IS NULL;
    CREATE INDEX ON {schema}.statistics (party_b, first_position) WHERE valid_to IS NULL;
    CREATE INDEX ON {schema}.statistics (reporter, partner) WHERE valid_to IS NULL;
    CREATE INDEX ON {schema}.statistics (period_last, period_first) WHERE valid_to IS NULL;
    """

    def prefetch(self, batch: Batch, events: Sequence[Recorded]) -> None:
        sessions = sessions_of(batch, events)
        batch.prefetch(
            self.commission_parties, {(commission,) for commission, _ in sessions.values()}
        )
        batch.prefetch(
            self.statistics,
            {
                (statistic_id(event.data["statistic_id"]),)
                for event in events
                if event.name in STATISTIC_CHANGES
            },
        )

    def on_CommissionEstablished(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        party_a, party_b = sorted(event.data["parties"])
        batch.create(
            self.commission_parties,
            (event.data["slug"],),
            {"party_a": party_a, "party_b": party_b},
            event.recorded_at,
            event.position,
        )

    def on_SessionScheduled(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        remember_session(batch, event)

    def on_SessionConvened(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        remember_session(batch, event)

    def on_StatisticReported(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        # The costliest handler of a rebuild (four events in ten are reports): its row is
        # written out whole, as ``statistic_values`` would make it of every field.
        data = event.data
        commission, session_key = session_of(batch, event)
        parties = batch.get(self.commission_parties, (commission,))
        assert parties is not None
        value = Decimal(data["value"])
        period, period_first, period_last = period_span(data["period"])
        row = {
            "commission": commission,
            "session_key": session_key,
            "party_a": parties["party_a"],
            "party_b": parties["party_b"],
            "measure": data["measure"],
            "value_kind": data["value_kind"],
            "value": value,
            "value_text": decimal_text(value),
            "unit": data["unit"],
            "qualifier": data["qualifier"],
            "reporter": data["reporter"],
            "partner": data["partner"],
            "period": period,
            "period_first": period_first,
            "period_last": period_last,
            "stated_by": data["stated_by"],
            "remarks": data["remarks"],
            "evidence": data["evidence"],
            "superseded_evidence": [],
            "revision": 1,
            "retracted": False,
            "change": "reported",
            "reason": None,
            "recorded_by": event.recorded_by,
            "first_position": event.position,
        }
        batch.create(
            self.statistics,
            (statistic_id(data["statistic_id"]),),
            row,
            event.recorded_at,
            event.position,
        )

    def on_StatisticCorrected(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        data = event.data
        key, row = self._current(batch, event)
        row.update(statistic_values(data["changes"]))
        evidence, superseded = corrected_evidence(
            row["evidence"], row["superseded_evidence"], data["changes"], data["evidence"]
        )
        row.update(
            evidence=list(evidence),
            superseded_evidence=list(superseded),
            revision=row["revision"] + 1,
            change="corrected",
            reason=data["reason"],
            recorded_by=event.recorded_by,
        )
        batch.put(self.statistics, key, row, event.recorded_at, event.position)

    def on_StatisticRetracted(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        key, row = self._current(batch, event)
        row.update(
            retracted=True,
            change="retracted",
            reason=event.data["reason"],
            recorded_by=event.recorded_by,
        )
        batch.put(self.statistics, key, row, event.recorded_at, event.position)

    def _current(self, batch: Batch, event: Recorded) -> tuple[tuple[UUID], dict[str, Any]]:
        key = (statistic_id(event.data["statistic_id"]),)
        row = batch.get(self.statistics, key)
        assert row is not None, f"no statistic {key[0]}"
        return key, row


# --- declarations and protocols -----------------------------------------------------------

INSTRUMENT_EVENTS = ("ProtocolSigned", "DeclarationReferenced")


class InstrumentsModel(ReadModel):
    """Declarations cited and protocols signed, each with the session that did so."""

    name = "instruments"
    version = 2
    instruments = Table(
        "instruments",
        ("commission", "session_key", "kind", "ref"),
        (
            "title",
            "dated",
            "dated_first",
            "dated_last",
            "characterization",
            "signatories",
            "evidence",
            "recorded_by",
        ),
    )
    tables = (instruments, SESSION_STREAMS)
    ddl = (
        SESSION_STREAMS_DDL
        + """
    CREATE TABLE {schema}.instruments (
        commission text NOT NULL, session_key text NOT NULL, kind text NOT NULL,
        ref text NOT NULL, title text, dated text, dated_first date, dated_last date,
        characterization text, signatories jsonb, evidence jsonb NOT NULL, recorded_by text,
        {validity}
    );
    CREATE UNIQUE INDEX ON {schema}.instruments (commission, session_key, kind, ref)
        WHERE valid_to IS NULL;
    """
    )
    indexes = """
    CREATE INDEX ON {schema}.instruments (lower(title));
    CREATE INDEX ON {schema}.instruments (commission, dated_first);
    """

    def prefetch(self, batch: Batch, events: Sequence[Recorded]) -> None:
        sessions = sessions_of(batch, events)
        batch.prefetch(
            self.instruments,
            {
                self._key(sessions[event.stream], event)
                for event in events
                if event.name in INSTRUMENT_EVENTS and event.stream in sessions
            },
        )

    def on_SessionScheduled(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        remember_session(batch, event)

    def on_SessionConvened(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        remember_session(batch, event)

    def on_ProtocolSigned(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        data = event.data
        dated, first, last = date_span(data["signed_on"])
        batch.put(
            self.instruments,
            self._key(session_of(batch, event), event),
            {
                "title": data["title"],
                "dated": dated,
                "dated_first": first,
                "dated_last": last,
                "signatories": data["signatories"],
                "evidence": data["evidence"],
                "recorded_by": event.recorded_by,
            },
            event.recorded_at,
            event.position,
        )

    def on_DeclarationReferenced(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        data = event.data
        dated, first, last = date_span(data["dated"])
        batch.put(
            self.instruments,
            self._key(session_of(batch, event), event),
            {
                "title": data["title"],
                "dated": dated,
                "dated_first": first,
                "dated_last": last,
                "characterization": data["characterization"],
                "evidence": data["evidence"],
                "recorded_by": event.recorded_by,
            },
            event.recorded_at,
            event.position,
        )

    def _key(self, session: tuple[str, str], event: Recorded) -> tuple[str, str, str, str]:
        """An instrument is a session's protocol, or a declaration it cites (by title and
        date)."""
        if event.name == "ProtocolSigned":
            return (*session, "protocol", "protocol")
        dated = date_span(event.data["dated"])[0]
        return (*session, "declaration", f"{normalize(event.data['title']).casefold()}@{dated}")


# --- history (audit) ----------------------------------------------------------------------


class HistoryModel(ReadModel):
    """Every event that shaped a commission, session or statistic, in record order: each
    with its data as stored JSON."""

    name = "history"
    version = 3
    history = Table(
        "history",
        ("position",),
        (
            "recorded_at",
            "recorded_by",
            "type",
            "stream",
            "version",
            "commission",
            "session_key",
            "statistic_id",
            "reason",
            "data",
        ),
        versioned=False,
    )
    commission_streams = Table("commission_streams", ("stream",), ("commission",), False)
    tables = (history, commission_streams, SESSION_STREAMS)
    ddl = (
        SESSION_STREAMS_DDL
        + """
    CREATE TABLE {schema}.commission_streams (stream uuid PRIMARY KEY, commission text NOT NULL);
    CREATE TABLE {schema}.history (
        position bigint NOT NULL, recorded_at timestamptz NOT NULL, recorded_by text,
        type text NOT NULL, stream uuid NOT NULL, version integer NOT NULL, commission text,
        session_key text, statistic_id uuid, reason text, data jsonb NOT NULL
    );
    """
    )
    # The history is only ever appended to: even its key is built after a rebuild's load.
    indexes = """
    ALTER TABLE {schema}.history ADD PRIMARY KEY (position);
    CREATE INDEX ON {schema}.history (commission, position);
    CREATE INDEX ON {schema}.history (statistic_id, position) WHERE statistic_id IS NOT NULL;
    CREATE INDEX ON {schema}.history (commission, session_key, position);
    CREATE INDEX ON {schema}.history (stream, version);
    """

    def handles(self, name: str) -> bool:
        # A StatisticLocated is an index entry, not a fact: its StatisticReported is here.
        return name != "StatisticLocated"

    def prefetch(self, batch: Batch, events: Sequence[Recorded]) -> None:
        sessions_of(batch, events)
        batch.prefetch(
            self.commission_streams,
            {
                (event.stream,)
                for event in events
                if event.name in COMMISSION_EVENTS and event.version > 1
            },
        )

    def apply(self, batch: Batch, event: Recorded) -> None:
        if not self.handles(event.name):
            return
        data = event.data
        commission: str | None = None
        session_key: str | None = None
        if event.name == "CommissionEstablished":
            batch.create(
                self.commission_streams,
                (event.stream,),
                {"commission": data["slug"]},
                event.recorded_at,
                event.position,
            )
        elif event.name in ("SessionScheduled", "SessionConvened"):
            remember_session(batch, event)
        if event.name in SESSION_EVENTS:
            commission, session_key = session_of(batch, event)
        elif event.name in COMMISSION_EVENTS:
            owner = batch.get(self.commission_streams, (event.stream,))
            assert owner is not None, f"event of unknown commission stream {event.stream}"
            commission = owner["commission"]
        statistic = data.get("statistic_id")
        batch.append(
            self.history,
            {
                "position": event.position,
                "recorded_at": event.recorded_at,
                "recorded_by": event.recorded_by,
                "type": event.name,
                "stream": event.stream,
                "version": event.version,
                "commission": commission,
                "session_key": session_key,
                "statistic_id": None if statistic is None else statistic_id(statistic),
                "reason": data.get("reason"),
                "data": data,
            },
        )


# --- evidence ------------------------------------------------------------------------------

# The events that cite evidence: every one keeps it in its ``evidence`` field.
EVIDENCE_EVENTS = frozenset(
    {
        "CoChairAppointed",
        "CoChairTenureEnded",
        "SessionScheduled",
        "SessionConvened",
        "SessionPostponed",
        "SessionCancelled",
        "SessionCorrected",
        "ProtocolSigned",
        "DeclarationReferenced",
        "StatisticReported",
        "StatisticCorrected",
    }
)
SOURCE_TEXT_EVENTS = ("SourceRegistered", "SourceTextRegistered")


def quote_key(quote: str) -> str:
    """A quote's key among its source's quotes: the sha256 of the quote as stored."""
    return hashlib.sha256(quote.encode()).hexdigest()


class _Texts:
    """Sources' texts, remembered across batches (with the facts of one projector, of one
    store) within a bound on their size (made searchable, see
    :class:`~domain.values.SearchableText`). A text
    never changes once registered, so a remembered one is never stale; each is remembered
    with the position of the event that registered it, so that a batch applied again (its
    first attempt rolled back) does not see a text registered after the event it applies."""

    def __init__(self, size: int = 64_000_000) -> None:
        self._texts: OrderedDict[tuple[str, str], tuple[int, SearchableText]] = OrderedDict()
        self._size = 0
        self._limit = size
        self._lock = threading.Lock()
        # The schemas of which a text was put but not kept (too long, or forgotten since).
        self._partial: set[str] = set()

    def get(self, schema: str, source: str) -> tuple[int, SearchableText] | None:
        with self._lock:
            return self._texts.get((schema, source))

    def holds_every(self, schema: str) -> bool:
        """Whether every text put of ``schema`` is still remembered."""
        with self._lock:
            return schema not in self._partial

    def put(self, schema: str, source: str, position: int, text: SearchableText) -> None:
        with self._lock:
            if (schema, source) in self._texts:
                return
            if text.size > self._limit:
                self._partial.add(schema)
                return
            while self._texts and self._size + text.size > self._limit:
                (forgotten, _), (_, old) = self._texts.popitem(last=False)
                self._partial.add(forgotten)
                self._size -= old.size
            self._texts[(schema, source)] = (position, text)
            self._size += text.size


class EvidenceModel(ReadModel):
    """Each source's registered text, and each quote of a source with its status against
    that text: ``verified`` (where it lies in it), ``unverified`` (the source has no text) or
    ``mismatch`` (the text, registered after the quote, does not contain it). A text
    registered later checks again every quote of its source recorded before: each quote's
    versions keep its earlier status."""

    name = "evidence"
    version = 1
    source_texts = Table("source_texts", ("source",), ("sha256", "text", "position"), False)
    quotes = Table(
        "quotes", ("source", "quote_key"), ("quote", "status", "start_offset", "end_offset")
    )
    tables = (source_texts, quotes)
    ddl = """
    CREATE TABLE {schema}.source_texts (
        source text PRIMARY KEY, sha256 text NOT NULL, text text NOT NULL,
        position bigint NOT NULL
    );
    CREATE TABLE {schema}.quotes (
        source text NOT NULL, quote_key text NOT NULL, quote text NOT NULL,
        status text NOT NULL, start_offset integer, end_offset integer, {validity}
    );
    CREATE UNIQUE INDEX ON {schema}.quotes (source, quote_key) WHERE valid_to IS NULL;
    """
    indexes = """
    CREATE INDEX ON {schema}.quotes (source, quote_key, valid_from);
    """

    def handles(self, name: str) -> bool:
        return name in EVIDENCE_EVENTS or name in SOURCE_TEXT_EVENTS

    def prefetch(self, batch: Batch, events: Sequence[Recorded]) -> None:
        batch.prefetch(
            self.quotes,
            {
                (item["source"], quote_key(item["quote"]))
                for event in events
                if event.name in EVIDENCE_EVENTS
                for item in event.data["evidence"]
            },
        )

    def apply(self, batch: Batch, event: Recorded) -> None:
        if event.name in EVIDENCE_EVENTS:
            for item in event.data["evidence"]:
                key = (item["source"], quote_key(item["quote"]))
                if batch.get(self.quotes, key) is None:
                    text = self._text(batch, item["source"], event.position)
                    batch.put(
                        self.quotes,
                        key,
                        _checked(item["quote"], text),
                        event.recorded_at,
                        event.position,
                    )
        elif event.name in SOURCE_TEXT_EVENTS:
            text = event.data["text"]
            if text is None:
                return
            source = event.data["slug"]
            batch.append(
                self.source_texts,
                {
                    "source": source,
                    "sha256": event.data["sha256"],
                    "text": text,
                    "position": event.position,
                },
            )
            searchable = SearchableText(text)
            batch.memo.setdefault(self.name, {})[source] = (event.position, searchable)
            self._texts(batch).put(batch.schema, source, event.position, searchable)
            if event.name == "SourceTextRegistered":
                self._check_again(batch, source, searchable, event)

    def _check_again(
        self, batch: Batch, source: str, text: SearchableText, event: Recorded
    ) -> None:
        """Checks every quote of ``source`` recorded so far against its new text."""
        batch.flush()  # so that the quotes this batch recorded are among those read
        batch.cursor.execute(
            sql.SQL(
                "SELECT quote_key, quote FROM {}.quotes WHERE source = %s AND valid_to IS NULL "
                "ORDER BY from_position, quote_key"
            ).format(sql.Identifier(batch.schema)),
            (source,),
        )
        quotes = batch.cursor.fetchall()
        keys = [(source, row["quote_key"]) for row in quotes]
        batch.prefetch(self.quotes, keys)
        for key, row in zip(keys, quotes, strict=True):
            batch.put(
                self.quotes, key, _checked(row["quote"], text), event.recorded_at, event.position
            )

    def _texts(self, batch: Batch) -> _Texts:
        """The texts this projector remembers (of its store alone)."""
        texts: _Texts = batch.facts.remembered.setdefault(self.name, _Texts())
        return texts

    def _text(self, batch: Batch, source: str, position: int) -> SearchableText | None:
        """The source's text as registered before ``position``, if it was."""
        known: dict[str, tuple[int, SearchableText] | None] = batch.memo.setdefault(self.name, {})
        if source in known:
            found = known[source]
        else:
            texts = self._texts(batch)
            found = texts.get(batch.schema, source)
            # A rebuild loads its generation from empty, as its only writer: it has put here
            # every text the generation holds, so one not here (nor forgotten) is none.
            loaded_here = batch.current is not None and texts.holds_every(batch.schema)
            if found is None and not loaded_here:
                batch.cursor.execute(
                    sql.SQL("SELECT position, text FROM {}.source_texts WHERE source = %s").format(
                        sql.Identifier(batch.schema)
                    ),
                    (source,),
                )
                row = batch.cursor.fetchone()
                if row is not None:
                    found = (int(row["position"]), SearchableText(str(row["text"])))
                    texts.put(batch.schema, source, *found)
            known[source] = found
        if found is None or found[0] >= position:
            return None
        return found[1]


def _checked(quote: str, text: SearchableText | None) -> dict[str, Any]:
    """A quote's status and offsets against its source's text (None: it has none)."""
    if text is None:
        return {"quote": quote, "status": "unverified"}
    span = text.span(quote)
    if span is None:
        return {"quote": quote, "status": "mismatch"}
    return {"quote": quote, "status": "verified", "start_offset": span[0], "end_offset": span[1]}


READ_MODELS: tuple[ReadModel, ...] = (
    CommissionsModel(),
    SessionsModel(),
    StatisticsModel(),
    InstrumentsModel(),
    HistoryModel(),
    EvidenceModel(),
)
