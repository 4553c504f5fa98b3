"""The read models of the record: what each keeps, and how each event changes it.

Each model owns its tables (in the schema of its generation) and handles the events it needs,
keeping its own copy of any fact it needs from another stream (which session a stream is), so
it can be rebuilt alone. Bump a model's ``version`` whenever its tables or handlers change: a
generation built by other code is rebuilt, beside the live one, on the next start.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from domain.base import catalogue_name
from domain.commission import same_person
from domain.dates import PartialDate, Period
from domain.values import normalize
from projections.batch import VALIDITY_COLUMNS, Batch, Table
from projections.values import event_data, plain, span


class ReadModel:
    """A read model: tables, and a handler per catalogue event name (``on_SessionConvened``)."""

    name: ClassVar[str]
    version: ClassVar[int]
    tables: ClassVar[tuple[Table, ...]]
    ddl: ClassVar[str]

    def apply(self, batch: Batch, event: Any, position: int) -> None:
        handler = getattr(self, f"on_{catalogue_name(event)}", None)
        if handler is not None:
            handler(batch, event, position)

    def create_statements(self, schema: str) -> str:
        return self.ddl.format(schema=f'"{schema}"', validity=VALIDITY_COLUMNS)


# --- which session a stream is --------------------------------------------------------------

SESSION_STREAMS = Table("session_streams", ("stream",), ("commission", "session_key"), False)
SESSION_STREAMS_DDL = """
CREATE TABLE {schema}.session_streams (
    stream uuid PRIMARY KEY, commission text NOT NULL, session_key text NOT NULL
);
"""


def remember_session(batch: Batch, event: Any) -> None:
    batch.put(
        SESSION_STREAMS,
        (event.originator_id,),
        {"commission": event.commission, "session_key": event.key},
        event.timestamp,
        0,
    )


def session_of(batch: Batch, event: Any) -> tuple[str, str]:
    row = batch.get(SESSION_STREAMS, (event.originator_id,))
    assert row is not None, f"event of unknown session stream {event.originator_id}"
    return row["commission"], row["session_key"]


def session_date(row: dict[str, Any]) -> tuple[str | None, date | None, date | None]:
    """The date a session concerns: its start when held, else its planned date."""
    if row.get("start"):
        return span(PartialDate.parse(row["start"]))
    if row.get("planned"):
        return span(PartialDate.parse(row["planned"]))
    return None, None, None


# --- commissions, co-chairs and sources ---------------------------------------------------


class CommissionsModel(ReadModel):
    """Commissions with their parties and names; co-chair tenures; sources."""

    name = "commissions"
    version = 1
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
    CREATE INDEX ON {schema}.commissions (id, valid_from);
    CREATE INDEX ON {schema}.commissions (party_a, party_b);
    CREATE TABLE {schema}.co_chairs (commission text NOT NULL, tenures jsonb NOT NULL, {validity});
    CREATE UNIQUE INDEX ON {schema}.co_chairs (commission) WHERE valid_to IS NULL;
    CREATE INDEX ON {schema}.co_chairs (commission, valid_from);
    CREATE TABLE {schema}.commission_streams (stream uuid PRIMARY KEY, commission text NOT NULL);
    CREATE TABLE {schema}.sources (
        id text NOT NULL, title text NOT NULL, publisher text NOT NULL, url text,
        language text NOT NULL, published_on text, sha256 text, recorded_by text, {validity}
    );
    CREATE UNIQUE INDEX ON {schema}.sources (id) WHERE valid_to IS NULL;
    """

    def on_SourceRegistered(self, batch: Batch, event: Any, position: int) -> None:  # noqa: N802
        batch.put(
            self.sources,
            (event.slug,),
            {
                "title": event.title,
                "publisher": event.publisher,
                "url": event.url,
                "language": event.language,
                "published_on": plain(event.published_on),
                "sha256": event.sha256,
                "recorded_by": event.recorded_by,
            },
            event.timestamp,
            position,
        )

    def on_CommissionEstablished(self, batch: Batch, event: Any, position: int) -> None:  # noqa: N802
        party_a, party_b = sorted(event.parties)
        batch.put(
            self.commission_streams,
            (event.originator_id,),
            {"commission": event.slug},
            event.timestamp,
            position,
        )
        batch.put(
            self.commissions,
            (event.slug,),
            {
                "party_a": party_a,
                "party_b": party_b,
                "names": dict(event.names),
                "established_on": plain(event.established_on),
                "mandate": event.mandate,
                "recorded_by": event.recorded_by,
            },
            event.timestamp,
            position,
        )
        batch.put(self.co_chairs, (event.slug,), {"tenures": []}, event.timestamp, position)

    def on_CoChairAppointed(self, batch: Batch, event: Any, position: int) -> None:  # noqa: N802
        commission = self._commission(batch, event)
        tenures = self._tenures(batch, commission)
        since, since_first, _ = span(event.since)
        tenures.append(
            {
                "party": event.party,
                "name": event.name,
                "title": event.title,
                "since": since,
                "since_first": plain(since_first),
                "until": None,
                "until_last": None,
                "evidence": plain(event.evidence),
                "appointed_at": position,
            }
        )
        batch.put(self.co_chairs, (commission,), {"tenures": tenures}, event.timestamp, position)

    def on_CoChairTenureEnded(self, batch: Batch, event: Any, position: int) -> None:  # noqa: N802
        commission = self._commission(batch, event)
        tenures = self._tenures(batch, commission)
        until, _, until_last = span(event.until)
        for tenure in tenures:
            if (
                tenure["party"] == event.party
                and tenure["until"] is None
                and same_person(tenure["name"], event.name)
            ):
                tenure["until"] = until
                tenure["until_last"] = plain(until_last)
                tenure["evidence"] = tenure["evidence"] + plain(event.evidence)
                break
        batch.put(self.co_chairs, (commission,), {"tenures": tenures}, event.timestamp, position)

    def _commission(self, batch: Batch, event: Any) -> str:
        row = batch.get(self.commission_streams, (event.originator_id,))
        assert row is not None
        return str(row["commission"])

    def _tenures(self, batch: Batch, commission: str) -> list[dict[str, Any]]:
        row = batch.get(self.co_chairs, (commission,))
        return [dict(tenure) for tenure in (row["tenures"] if row else [])]


# --- sessions -----------------------------------------------------------------------------


class SessionsModel(ReadModel):
    """Each session's own record: status, dates, place, co-chairs, protocol, declarations."""

    name = "sessions"
    version = 1
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
    CREATE INDEX ON {schema}.sessions (commission, date_first, date_last);
    CREATE INDEX ON {schema}.sessions (commission, key, valid_from);
    """
    )

    def on_SessionScheduled(self, batch: Batch, event: Any, position: int) -> None:  # noqa: N802
        remember_session(batch, event)
        row = {
            "ordinal": event.ordinal,
            "kind": event.kind,
            "status": "scheduled",
            "planned": plain(event.planned),
            "place": plain(event.place),
            "co_chairs": [],
            "topics": [],
            "reasons": [],
            "evidence": plain(event.evidence),
            "declarations": [],
            "corrections": [],
        }
        self._put(batch, event, (event.commission, event.key), row, position)

    def on_SessionConvened(self, batch: Batch, event: Any, position: int) -> None:  # noqa: N802
        remember_session(batch, event)
        key = (event.commission, event.key)
        row = batch.get(self.sessions, key) or {
            "planned": None,
            "reasons": [],
            "evidence": [],
            "declarations": [],
            "corrections": [],
        }
        row.update(
            ordinal=event.ordinal,
            kind=event.kind,
            status="convened",
            format=event.format,
            start=plain(event.start),
            end=plain(event.end),
            place=plain(event.place),
            co_chairs=plain(event.co_chairs),
            topics=list(event.topics),
            summary=event.summary,
            evidence=row["evidence"] + plain(event.evidence),
        )
        self._put(batch, event, key, row, position)

    def on_SessionPostponed(self, batch: Batch, event: Any, position: int) -> None:  # noqa: N802
        key, row = self._current(batch, event)
        row["status"] = "postponed"
        if event.planned is not None:
            row["planned"] = plain(event.planned)
        row["reasons"] = [*row["reasons"], event.reason]
        row["evidence"] = row["evidence"] + plain(event.evidence)
        self._put(batch, event, key, row, position)

    def on_SessionCancelled(self, batch: Batch, event: Any, position: int) -> None:  # noqa: N802
        key, row = self._current(batch, event)
        row["status"] = "cancelled"
        row["reasons"] = [*row["reasons"], event.reason]
        row["evidence"] = row["evidence"] + plain(event.evidence)
        self._put(batch, event, key, row, position)

    def on_SessionCorrected(self, batch: Batch, event: Any, position: int) -> None:  # noqa: N802
        key, row = self._current(batch, event)
        before = {name: row.get(name) for name in event.changes}
        for name, value in event.changes.items():
            row[name] = list(value) if name == "topics" else plain(value)
        row["evidence"] = row["evidence"] + plain(event.evidence)
        row["corrections"] = [
            *row["corrections"],
            {
                "position": position,
                "recorded_at": plain(event.timestamp),
                "recorded_by": event.recorded_by,
                "reason": event.reason,
                "before": before,
                "after": plain(event.changes),
            },
        ]
        self._put(batch, event, key, row, position)

    def on_ProtocolSigned(self, batch: Batch, event: Any, position: int) -> None:  # noqa: N802
        key, row = self._current(batch, event)
        row["protocol"] = {
            "title": event.title,
            "signed_on": plain(event.signed_on),
            "signatories": plain(event.signatories),
            "evidence": plain(event.evidence),
        }
        self._put(batch, event, key, row, position)

    def on_DeclarationReferenced(self, batch: Batch, event: Any, position: int) -> None:  # noqa: N802
        key, row = self._current(batch, event)
        row["declarations"] = [
            *row["declarations"],
            {
                "title": event.title,
                "dated": plain(event.dated),
                "characterization": event.characterization,
                "evidence": plain(event.evidence),
            },
        ]
        self._put(batch, event, key, row, position)

    def _current(self, batch: Batch, event: Any) -> tuple[tuple[str, str], dict[str, Any]]:
        key = session_of(batch, event)
        row = batch.get(self.sessions, key)
        assert row is not None, f"no session {key}"
        return key, row

    def _put(
        self,
        batch: Batch,
        event: Any,
        key: tuple[str, str],
        row: dict[str, Any],
        position: int,
    ) -> None:
        row["date"], row["date_first"], row["date_last"] = session_date(row)
        row["recorded_by"] = event.recorded_by
        batch.put(self.sessions, key, row, event.timestamp, position)


# --- statistics ---------------------------------------------------------------------------

STATISTIC_FIELDS = (
    "measure",
    "value_kind",
    "value",
    "unit",
    "qualifier",
    "reporter",
    "partner",
    "period",
    "stated_by",
    "remarks",
)


def statistic_values(fields: dict[str, Any]) -> dict[str, Any]:
    """A statistic's fields as columns: the value as numeric and text, the period as days."""
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "value":
            values["value"] = value if isinstance(value, Decimal) else Decimal(str(value))
            values["value_text"] = plain(values["value"])
        elif name == "period":
            period = value if value is None or isinstance(value, Period) else Period.parse(value)
            values["period"], values["period_first"], values["period_last"] = span(period)
        else:
            values[name] = value
    return values


class StatisticsModel(ReadModel):
    """Every version of every statistic: reported, corrected, retracted."""

    name = "statistics"
    version = 3
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
        evidence jsonb NOT NULL, revision integer NOT NULL, retracted boolean NOT NULL,
        change text NOT NULL, reason text, recorded_by text, first_position bigint NOT NULL,
        {validity}
    );
    CREATE UNIQUE INDEX ON {schema}.statistics (id) WHERE valid_to IS NULL;
    CREATE INDEX ON {schema}.statistics (id, valid_from);
    CREATE INDEX ON {schema}.statistics (party_a, party_b, measure, value_kind);
    CREATE INDEX ON {schema}.statistics (commission, session_key);
    CREATE INDEX ON {schema}.statistics (commission, period_first);
    """
    )

    def on_CommissionEstablished(self, batch: Batch, event: Any, position: int) -> None:  # noqa: N802
        party_a, party_b = sorted(event.parties)
        batch.put(
            self.commission_parties,
            (event.slug,),
            {"party_a": party_a, "party_b": party_b},
            event.timestamp,
            position,
        )

    def on_SessionScheduled(self, batch: Batch, event: Any, position: int) -> None:  # noqa: N802
        remember_session(batch, event)

    def on_SessionConvened(self, batch: Batch, event: Any, position: int) -> None:  # noqa: N802
        remember_session(batch, event)

    def on_StatisticReported(self, batch: Batch, event: Any, position: int) -> None:  # noqa: N802
        commission, session_key = session_of(batch, event)
        parties = batch.get(self.commission_parties, (commission,))
        assert parties is not None
        row = {
            "commission": commission,
            "session_key": session_key,
            "party_a": parties["party_a"],
            "party_b": parties["party_b"],
            **statistic_values({name: getattr(event, name) for name in STATISTIC_FIELDS}),
            "evidence": plain(event.evidence),
            "revision": 1,
            "retracted": False,
            "change": "reported",
            "reason": None,
            "recorded_by": event.recorded_by,
            "first_position": position,
        }
        batch.create(self.statistics, (event.statistic_id,), row, event.timestamp, position)

    def on_StatisticCorrected(self, batch: Batch, event: Any, position: int) -> None:  # noqa: N802
        row = self._current(batch, event.statistic_id)
        row.update(statistic_values(dict(event.changes)))
        row.update(
            evidence=row["evidence"] + plain(event.evidence),
            revision=row["revision"] + 1,
            change="corrected",
            reason=event.reason,
            recorded_by=event.recorded_by,
        )
        batch.put(self.statistics, (event.statistic_id,), row, event.timestamp, position)

    def on_StatisticRetracted(self, batch: Batch, event: Any, position: int) -> None:  # noqa: N802
        row = self._current(batch, event.statistic_id)
        row.update(
            retracted=True,
            change="retracted",
            reason=event.reason,
            recorded_by=event.recorded_by,
        )
        batch.put(self.statistics, (event.statistic_id,), row, event.timestamp, position)

    def _current(self, batch: Batch, statistic_id: UUID) -> dict[str, Any]:
        row = batch.get(self.statistics, (statistic_id,))
        assert row is not None, f"no statistic {statistic_id}"
        return row


# --- declarations and protocols -----------------------------------------------------------


class InstrumentsModel(ReadModel):
    """Declarations cited and protocols signed, each with the session that did so."""

    name = "instruments"
    version = 1
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
    CREATE INDEX ON {schema}.instruments (lower(title));
    CREATE INDEX ON {schema}.instruments (commission, dated_first);
    """
    )

    def on_SessionScheduled(self, batch: Batch, event: Any, position: int) -> None:  # noqa: N802
        remember_session(batch, event)

    def on_SessionConvened(self, batch: Batch, event: Any, position: int) -> None:  # noqa: N802
        remember_session(batch, event)

    def on_ProtocolSigned(self, batch: Batch, event: Any, position: int) -> None:  # noqa: N802
        commission, session_key = session_of(batch, event)
        dated, first, last = span(event.signed_on)
        batch.put(
            self.instruments,
            (commission, session_key, "protocol", "protocol"),
            {
                "title": event.title,
                "dated": dated,
                "dated_first": first,
                "dated_last": last,
                "signatories": plain(event.signatories),
                "evidence": plain(event.evidence),
                "recorded_by": event.recorded_by,
            },
            event.timestamp,
            position,
        )

    def on_DeclarationReferenced(self, batch: Batch, event: Any, position: int) -> None:  # noqa: N802
        commission, session_key = session_of(batch, event)
        dated, first, last = span(event.dated)
        batch.put(
            self.instruments,
            (
                commission,
                session_key,
                "declaration",
                f"{normalize(event.title).casefold()}@{dated}",
            ),
            {
                "title": event.title,
                "dated": dated,
                "dated_first": first,
                "dated_last": last,
                "characterization": event.characterization,
                "evidence": plain(event.evidence),
                "recorded_by": event.recorded_by,
            },
            event.timestamp,
            position,
        )


# --- history (audit) ----------------------------------------------------------------------


class HistoryModel(ReadModel):
    """Every event that shaped a commission, session or statistic, in record order."""

    name = "history"
    version = 1
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
        position bigint PRIMARY KEY, recorded_at timestamptz NOT NULL, recorded_by text,
        type text NOT NULL, stream uuid NOT NULL, version integer NOT NULL, commission text,
        session_key text, statistic_id uuid, reason text, data jsonb NOT NULL
    );
    CREATE INDEX ON {schema}.history (commission, position);
    CREATE INDEX ON {schema}.history (statistic_id, position) WHERE statistic_id IS NOT NULL;
    CREATE INDEX ON {schema}.history (commission, session_key, position);
    CREATE INDEX ON {schema}.history (stream, version);
    """
    )

    def apply(self, batch: Batch, event: Any, position: int) -> None:
        name = catalogue_name(event)
        commission: str | None = None
        session_key: str | None = None
        if name == "CommissionEstablished":
            batch.put(
                self.commission_streams,
                (event.originator_id,),
                {"commission": event.slug},
                event.timestamp,
                position,
            )
        if name in ("SessionScheduled", "SessionConvened"):
            remember_session(batch, event)
        if name == "StatisticLocated":
            return  # an index entry, not a fact: its StatisticReported is in the history
        session = batch.get(SESSION_STREAMS, (event.originator_id,))
        if session is not None:
            commission, session_key = session["commission"], session["session_key"]
        else:
            owner = batch.get(self.commission_streams, (event.originator_id,))
            commission = owner["commission"] if owner else None
        data = event_data(event)
        batch.append(
            self.history,
            {
                "position": position,
                "recorded_at": event.timestamp,
                "recorded_by": event.recorded_by,
                "type": name,
                "stream": event.originator_id,
                "version": event.originator_version,
                "commission": commission,
                "session_key": session_key,
                "statistic_id": getattr(event, "statistic_id", None),
                "reason": getattr(event, "reason", None),
                "data": data,
            },
        )


READ_MODELS: tuple[ReadModel, ...] = (
    CommissionsModel(),
    SessionsModel(),
    StatisticsModel(),
    InstrumentsModel(),
    HistoryModel(),
)
