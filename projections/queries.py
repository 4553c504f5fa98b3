"""Questions asked of the read models: every answer is for a moment of record time.

``as_of=None`` asks about the record as it stands; a timestamp asks what the record said
then, later events unseen: each versioned row is picked by its validity, no log replay. Every
answer carries ``position``, the log position of the read models it was read from.

A read may first wait for a position (``wait_for``). A stalled read model will not reach one
past its own; a request's wait then waits for the others only, and its queries answer from
those but refuse the stalled one (:class:`ReadModelStalledError`), at once.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, TypeVar, cast
from uuid import UUID

import psycopg
from psycopg import sql

from domain.dates import PartialDate
from projections.models import quote_key
from projections.store import STATE_CHANNEL, Generation, ReadModelStore, live_generations
from projections.values import timestamp
from projections.watch import Watch

Row = dict[str, Any]
F = TypeVar("F", bound=Callable[..., Any])
A = TypeVar("A")


class ReadModelsNotReadyError(Exception):
    """The read models have not reached the position asked for within the wait allowed."""

    def __init__(self, position: int, reached: int) -> None:
        self.position = position
        self.reached = reached
        super().__init__(f"the read models are at position {reached}, not yet {position}")


class ReadModelStalledError(ReadModelsNotReadyError):
    """A read model asked for is stalled before the position asked for: it cannot apply the
    event after its own position, and stays there until it is fixed."""

    def __init__(self, position: int, stalled: Generation) -> None:
        super().__init__(position, stalled.position)
        assert stalled.stall is not None
        self.model = stalled.name
        self.stall = stalled.stall

    def __str__(self) -> str:
        return (
            f"read model {self.model} is stalled at position {self.reached}: it cannot apply "
            f"event {self.stall.event} ({self.stall.topic}), so it answers only up to "
            f"position {self.reached}, not {self.position}"
        )


class _Awaited:
    """The position a request waited for, once its wait found a read model stalled before it;
    0 while it did not."""

    __slots__ = ("position",)

    def __init__(self) -> None:
        self.position = 0


# Each request's own (``begin_request``), so its queries learn what its wait found: the wait
# runs in another thread, in a copy of the request's context, which shares the object.
_awaited: ContextVar[_Awaited | None] = ContextVar("diprec_awaited", default=None)


def begin_request() -> None:
    """Starts a request's reads: call it in the request's own context, before its wait."""
    _awaited.set(_Awaited())


def _refuse_behind(models: Sequence[str], live: dict[str, Generation]) -> None:
    """Refuses a read of a model that has not reached the position the request waited for
    (one its wait found stalled)."""
    awaited = _awaited.get()
    if awaited is None or not awaited.position:
        return
    for name in models:
        generation = live.get(name)
        if generation is not None and generation.position < awaited.position:
            if generation.stall is not None:
                raise ReadModelStalledError(awaited.position, generation)
            raise ReadModelsNotReadyError(awaited.position, generation.position)


@dataclass(frozen=True, slots=True)
class Progress:
    """How far the read models are with a wait for ``position``: ``over`` once no model that
    is not stalled is behind it (``stalled``: the first stalled one behind, if any);
    ``reached``, the lowest position of those still to come."""

    position: int
    over: bool
    stalled: Generation | None
    reached: int

    @classmethod
    def of(cls, live: dict[str, Generation], position: int) -> Progress:
        behind = [g for g in live.values() if g.position < position]
        coming = [g.position for g in behind if g.stall is None]
        stalled = next((g for g in behind if g.stall is not None), None)
        over = bool(live) and not coming
        return cls(position, over, stalled, min(coming, default=0))

    def note_stall(self) -> bool:
        """Tells the queries of the request this runs in that a model they may read is
        stalled before the position it waited for; False outside a request (no one to tell)."""
        awaited = _awaited.get()
        if awaited is None:
            return False
        awaited.position = self.position
        return True


class BeyondTheLogError(ValueError):
    """A position the log has not reached: no write has answered with it."""

    def __init__(self, position: int, end: int) -> None:
        super().__init__(f"position {position} is beyond the end of the log, {end}")


class BadCursorError(ValueError):
    """A pagination cursor this service did not give, or gave for another list: another
    route's, or the same route's asked with other filters."""

    def __init__(self, cursor: str, reason: str = "is not a cursor this service gave") -> None:
        super().__init__(cursor)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class StatisticFilters:
    """Which statistics ``GET /statistics`` asks for; None (or empty) asks for any.

    ``parties``: of a commission with these parties (one, or both in any order);
    ``reporter`` / ``partner``: the statistic's perspective, as reported; ``stated_by``: the
    party whose side stated it; ``start`` / ``end``: its period (or, when it gives none, its
    session's date) overlaps them; ``retracted``: retracted ones only, or standing ones only;
    ``evidence_status``: those whose weakest evidence has that status (as of the read).
    """

    commission: str | None = None
    session: str | None = None
    measure: str | None = None
    reporter: str | None = None
    partner: str | None = None
    stated_by: str | None = None
    parties: tuple[str, ...] = ()
    start: PartialDate | None = None
    end: PartialDate | None = None
    retracted: bool | None = None
    evidence_status: str | None = None

    def asked(self) -> tuple[Any, ...]:
        """The filters as a cursor of their list is tagged with."""
        return (
            self.commission,
            self.session,
            self.measure,
            self.reporter,
            self.partner,
            self.stated_by,
            ",".join(sorted(self.parties)),
            self.start,
            self.end,
            self.retracted,
            self.evidence_status,
        )

    def conditions(
        self, evidence: str, as_of: datetime | None
    ) -> tuple[list[sql.Composable], dict[str, Any]]:
        """The SQL conditions on ``st`` (the statistic) and ``s`` (its session), and their
        parameters; ``evidence`` is the evidence model's schema, whose quotes' statuses as of
        ``as_of`` the evidence filter reads."""
        conditions: list[sql.Composable] = []
        params: dict[str, Any] = {}
        for column in ("commission", "measure", "reporter", "partner", "stated_by"):
            value = getattr(self, column)
            if value is not None:
                conditions.append(
                    sql.SQL("st.{} = {}").format(sql.Identifier(column), sql.Placeholder(column))
                )
                params[column] = value
        if self.session is not None:
            conditions.append(sql.SQL("st.session_key = %(session)s"))
            params["session"] = self.session
        parties = sorted(set(self.parties))
        if len(parties) == 2:
            conditions.append(sql.SQL("st.party_a = %(party_a)s AND st.party_b = %(party_b)s"))
            params["party_a"], params["party_b"] = parties
        elif parties:
            conditions.append(sql.SQL("%(party)s IN (st.party_a, st.party_b)"))
            params["party"] = parties[0]
        if self.start is not None:
            conditions.append(sql.SQL("coalesce(st.period_last, s.date_last) >= %(from)s"))
            params["from"] = self.start.first_day
        if self.end is not None:
            conditions.append(sql.SQL("coalesce(st.period_first, s.date_first) <= %(to)s"))
            params["to"] = self.end.last_day
        if self.retracted is not None:
            conditions.append(sql.SQL("st.retracted = %(retracted)s"))
            params["retracted"] = self.retracted
        if self.evidence_status is not None:
            status = sql.SQL(WEAKEST_EVIDENCE[self.evidence_status]).format(
                item=sql.SQL(QUOTE_STATUS).format(
                    quotes=sql.Identifier(evidence), valid_q=_valid("q", as_of)
                )
            )
            conditions.append(status)
        return conditions, params


#: The status of one item ``e`` of a statistic's evidence, as the evidence model checked it
#: (a quote not yet checked is taken as given: unverified), the quote's key computed as
#: the evidence model's ``quote_key`` computes it.
QUOTE_STATUS = """coalesce((SELECT q.status FROM {quotes}.quotes q
    WHERE q.source = e->>'source'
      AND q.quote_key = encode(sha256(convert_to(e->>'quote', 'UTF8')), 'hex') AND {valid_q}),
    'unverified')"""

#: The condition that a statistic's weakest evidence has a status, by that status.
_ANY = "EXISTS (SELECT 1 FROM jsonb_array_elements(st.evidence) e WHERE {item} = '%s')"
WEAKEST_EVIDENCE = {
    "mismatch": _ANY % "mismatch",
    "unverified": f"{_ANY % 'unverified'} AND NOT {_ANY % 'mismatch'}",
    "verified": "NOT EXISTS (SELECT 1 FROM jsonb_array_elements(st.evidence) e "
    "WHERE {item} <> 'verified')",
}


@dataclass(frozen=True)
class Page:
    items: list[Row]
    next_cursor: str | None
    position: int


# What a cursor may hold, field by field: each is checked as it will be bound to a query, so a
# forged cursor is refused as one, never a failing query.
CursorField = Literal["date", "int", "bigint", "text"]
MAX_CURSOR = 1_000  # characters: a cursor this service gives is far shorter
_CURSOR_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")
_RANGES = {"int": (-(2**31), 2**31 - 1), "bigint": (-(2**63), 2**63 - 1)}


def cursor_tag(route: str, asked: Sequence[Any] = ()) -> str:
    """What a cursor is a cursor of: the route and the filters of the list it pages (not the
    page size, nor the moment asked about). A digest, not a signature: it tells a cursor of
    another list from one of this list, which is all a client needs to be told; forged values
    are refused field by field as they are decoded."""
    shape = json.dumps([route, *(str(v) if v is not None else None for v in asked)])
    return hashlib.sha256(shape.encode()).hexdigest()[:16]


def encode_cursor(route: str, values: Sequence[Any], asked: Sequence[Any] = ()) -> str:
    """An opaque cursor of ``route``'s pages, for the list ``asked`` names (its filters):
    refused by any other route's, and by this route's asked for another list."""
    fields = (v.isoformat() if isinstance(v, date) else v for v in values)
    text = json.dumps([route, cursor_tag(route, asked), *fields])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(
    cursor: str, route: str, shape: Sequence[CursorField], asked: Sequence[Any] = ()
) -> list[Any]:
    """The values of a cursor ``encode_cursor`` gave for ``route`` and ``asked``, each of its
    field's kind; anything else is a :class:`BadCursorError`."""
    if len(cursor) > MAX_CURSOR:
        raise BadCursorError(cursor[:MAX_CURSOR])
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        raise BadCursorError(cursor) from None
    if not isinstance(values, list) or len(values) < 2:
        raise BadCursorError(cursor)
    if values[0] != route:
        raise BadCursorError(cursor, "was given by another route; start this list again without it")
    if values[1] != cursor_tag(route, asked):
        raise BadCursorError(
            cursor,
            "was given for this list with other filters; ask with the same filters, "
            "or start again without it",
        )
    fields = values[2:]
    if len(fields) != len(shape) or not all(
        _is_cursor_field(value, kind) for value, kind in zip(fields, shape, strict=True)
    ):
        raise BadCursorError(cursor)
    return fields


def _is_cursor_field(value: Any, kind: CursorField) -> bool:
    if kind == "text":
        return isinstance(value, str) and "\x00" not in value
    if kind == "date":
        if value == "infinity":
            return True
        if not isinstance(value, str) or not _CURSOR_DATE.match(value):
            return False
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return True
    low, high = _RANGES[kind]
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _valid(alias: str, as_of: datetime | None) -> sql.Composable:
    """The rows of ``alias`` current now, or at ``as_of``."""
    table = sql.Identifier(alias)
    if as_of is None:
        return sql.SQL("{}.valid_to IS NULL").format(table)
    return sql.SQL(
        "{t}.valid_from <= %(as_of)s AND ({t}.valid_to IS NULL OR {t}.valid_to > %(as_of)s)"
    ).format(t=table)


def _recorded(row: Row, as_of: datetime | None) -> Row:
    """Record-time fields of a versioned row, as they stood at ``as_of``."""
    ended = row.get("valid_to") is not None and (as_of is None or row["valid_to"] <= as_of)
    return {
        "recorded_at": timestamp(row["valid_from"]),
        "superseded_at": timestamp(row["valid_to"]) if ended else None,
    }


def _statistic(row: Row) -> Row:
    return {
        "id": row["id"],
        "commission": row["commission"],
        "session": row["session_key"],
        "measure": row["measure"],
        "value_kind": row["value_kind"],
        "value": row["value_text"],
        "unit": row["unit"],
        "qualifier": row["qualifier"],
        "reporter": row["reporter"],
        "partner": row["partner"],
        "period": row["period"],
        "stated_by": row["stated_by"],
        "remarks": row["remarks"],
        "evidence": row["evidence"],
        "superseded_evidence": row["superseded_evidence"],
        "revision": row["revision"],
        "retracted": row["retracted"],
        "retraction_reason": row["reason"] if row["retracted"] else None,
    }


class _Flight:
    """A question being answered: those asking it meanwhile wait for its answer."""

    __slots__ = ("answer", "answered", "done")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.answered = False
        self.answer: Any = None


class Answers:
    """Answers already given, keyed by the question and the generation and position of each
    read model it was read from.

    A read model changes only by moving to a new position (or generation), so an answer is
    valid for as long as those stay the same: between writes, repeated questions (a
    dashboard's, say) are answered without querying the tables again. A question asked again
    while its first asking is still being answered waits for that answer instead of querying
    too: a hundred readers released at once by the position they waited for cost one query,
    not a hundred.
    """

    def __init__(self, size: int = 512, *, flight_wait: float = 60.0) -> None:
        self._answers: OrderedDict[Hashable, Any] = OrderedDict()
        self._flights: dict[Hashable, _Flight] = {}
        self._size = size
        self._flight_wait = flight_wait
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            answer = self._answers.get(key)
            if answer is not None:
                self._answers.move_to_end(key)
            return answer

    def put(self, key: Hashable, answer: Any) -> None:
        with self._lock:
            self._answers[key] = answer
            if len(self._answers) > self._size:
                self._answers.popitem(last=False)

    def answer(self, key: Hashable, ask: Callable[[], Any]) -> Any:
        """The answer remembered for ``key``, or the one being worked out for it, or else
        ``ask()``'s, remembered unless None (a question whose first asking failed is asked
        again by each waiting for it)."""
        with self._lock:
            answer = self._answers.get(key)
            if answer is not None:
                self._answers.move_to_end(key)
                return answer
            flight = self._flights.get(key)
            leading = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not leading:
            if flight.done.wait(self._flight_wait) and flight.answered:
                return flight.answer
            return ask()
        try:
            answer = ask()
            flight.answer, flight.answered = answer, True
        finally:
            with self._lock:
                del self._flights[key]
                if flight.answered and answer is not None:
                    self._answers[key] = answer
                    if len(self._answers) > self._size:
                        self._answers.popitem(last=False)
            flight.done.set()
        return answer


def _hashable(value: Any) -> Hashable:
    if isinstance(value, list | tuple):
        return tuple(_hashable(item) for item in value)
    return cast(Hashable, value)


# The read models each cached query reads, by the query's name.
ANSWERED: dict[str, tuple[str, ...]] = {}


def _answer_key(query: str, args: Sequence[Any], live: dict[str, Generation]) -> Hashable:
    models = ANSWERED[query]
    return (
        query,
        _hashable(args),
        tuple((m, live[m].generation, live[m].position) for m in models if m in live),
    )


def answered(*models: str) -> Callable[[F], F]:
    """Serves a query from ``Answers`` while the read models it reads have not moved."""

    def decorate(query: F) -> F:
        ANSWERED[query.__name__] = models

        @functools.wraps(query)
        def cached(self: ReadModels, *args: Any) -> Any:
            live = self.live()
            _refuse_behind(models, live)
            key = _answer_key(query.__name__, args, live)
            return self.answers.answer(key, lambda: query(self, *args))

        return cast(F, cached)

    return decorate


class ReadModels:
    """The query side of the record, over the live generation of each read model."""

    def __init__(self, store: ReadModelStore, *, query_timeout: float = 10.0) -> None:
        self.store = store
        self.answers = Answers()
        # Every read's transaction: one snapshot, read only, its statements bounded in time.
        self._begin_reading = (
            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; "
            f"SET LOCAL statement_timeout = {max(1, round(query_timeout * 1000))}"
        )
        # While watched, the live generations are read again only when a read model has moved:
        # announced by the state table's trigger, or known here when this process moved it.
        self.watch = Watch(STATE_CHANNEL, "diprec-read-models")
        self._live: tuple[tuple[int, int], dict[str, Generation]] | None = None

    def recall(self, query: str, *args: Any) -> Any | None:
        """The answer ``query`` (a cached query's name) gave ``args`` at the read models'
        current positions, if it is remembered and they are known without asking the
        database; otherwise None, and the caller asks the query itself."""
        live = self._remembered_live()
        if live is None:
            return None
        _refuse_behind(ANSWERED[query], live)
        return self.answers.get(_answer_key(query, args, live))

    def _remembered_live(self) -> dict[str, Generation] | None:
        watched = self.watch.stamp()
        remembered = self._live
        if watched is None or remembered is None or remembered[0] != (watched, self.store.moves):
            return None
        return remembered[1]

    def live(self) -> dict[str, Generation]:
        """The live generation and position of each read model, as last read while nothing
        has moved since; read afresh otherwise, and always when not watching."""
        remembered = self._remembered_live()
        if remembered is not None:
            return remembered
        watched = self.watch.stamp()
        stamp = None if watched is None else (watched, self.store.moves)
        live = self.store.live()
        if stamp is not None and stamp == (self.watch.stamp(), self.store.moves):
            self._live = (stamp, live)
        return live

    @contextmanager
    def _reading(self, *models: str) -> Iterator[tuple[psycopg.Cursor[Row], dict[str, str], int]]:
        """A cursor, the schema of each model asked for, and the position they reflect."""
        with self.store.transaction() as cursor:
            cursor.execute(self._begin_reading)
            live = live_generations(cursor)
            missing = [name for name in models if name not in live]
            if missing:
                raise ReadModelsNotReadyError(0, 0)
            _refuse_behind(models, live)
            schemas = {name: live[name].schema for name in models}
            position = min(live[name].position for name in models)
            yield cursor, schemas, position

    # --- freshness ------------------------------------------------------------------------

    def positions(self) -> dict[str, Generation]:
        return self.store.live()

    def wait_for(self, position: int, timeout: float) -> None:
        """Returns once every read model includes ``position``; raises after ``timeout``.

        A stalled model will not: once only stalled models are behind, a request's wait
        returns, and its queries refuse those models (``begin_request``); any other wait
        raises :class:`ReadModelStalledError` at once. (A request's wait in the service does
        not hold a thread: ``api.waits``.)"""
        end = self.store.max_position()
        if position > end:
            raise BeyondTheLogError(position, end)
        deadline = time.monotonic() + timeout
        pause = 0.002
        while True:
            live = self.store.live()
            progress = Progress.of(live, position)
            if progress.over:
                if progress.stalled is not None and not progress.note_stall():
                    raise ReadModelStalledError(position, progress.stalled)
                # The answers that follow must be read at this position or later, even if
                # its announcement has not arrived yet.
                self.watch.changed()
                return
            if time.monotonic() >= deadline:
                raise ReadModelsNotReadyError(position, progress.reached)
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def remembered_live(self) -> dict[str, Generation] | None:
        """The live generations as known without asking the database, or None."""
        return self._remembered_live()

    # --- commissions ----------------------------------------------------------------------

    @answered("commissions", "sessions", "evidence")
    def commissions(
        self, parties: Sequence[str], as_of: datetime | None, cursor: str | None, limit: int
    ) -> Page:
        with self._reading("commissions", "sessions", "evidence") as (db, schemas, position):
            asked = sorted(set(parties))
            after = decode_cursor(cursor, "commissions", ["text"], asked)[0] if cursor else ""
            filters = [_valid("c", as_of), sql.SQL("c.id > %(after)s")]
            filters.extend(
                sql.SQL(f"%(party{index})s IN (c.party_a, c.party_b)")
                for index in range(len(parties))
            )
            params: dict[str, Any] = {"as_of": as_of, "after": after, "limit": limit + 1}
            params.update({f"party{i}": party for i, party in enumerate(parties)})
            db.execute(
                sql.SQL(
                    "SELECT c.* FROM {}.commissions c WHERE {} ORDER BY c.id LIMIT %(limit)s"
                ).format(sql.Identifier(schemas["commissions"]), sql.SQL(" AND ").join(filters)),
                params,
            )
            rows = db.fetchall()
            items = [self._commission_summary(db, schemas, row, as_of) for row in rows[:limit]]
            next_cursor = (
                encode_cursor("commissions", [rows[limit - 1]["id"]], asked)
                if len(rows) > limit
                else None
            )
            return Page(self._annotated(db, schemas, as_of, items), next_cursor, position)

    @answered("commissions", "sessions", "statistics", "instruments", "evidence")
    def commission(self, cid: str, as_of: datetime | None) -> Row | None:
        with self._reading("commissions", "sessions", "statistics", "instruments", "evidence") as (
            db,
            schemas,
            position,
        ):
            db.execute(
                sql.SQL("SELECT c.* FROM {}.commissions c WHERE c.id = %(cid)s AND {}").format(
                    sql.Identifier(schemas["commissions"]), _valid("c", as_of)
                ),
                {"cid": cid, "as_of": as_of},
            )
            row = db.fetchone()
            if row is None:
                return None
            summary = self._commission_summary(db, schemas, row, as_of)
            summary["counts"] = self._counts(db, schemas, cid, as_of)
            summary["position"] = position
            return self._annotated(db, schemas, as_of, summary)

    def _commission_summary(
        self, db: psycopg.Cursor[Row], schemas: dict[str, str], row: Row, as_of: datetime | None
    ) -> Row:
        tenures = self._tenures(db, schemas, row["id"], as_of)
        sessions = sql.SQL(
            "SELECT s.key, s.ordinal, s.kind, s.status, s.date FROM {}.sessions s "
            "WHERE s.commission = %(cid)s AND {} AND s.status IN ({}) ORDER BY {} LIMIT 1"
        )
        params = {"cid": row["id"], "as_of": as_of}
        db.execute(
            sessions.format(
                sql.Identifier(schemas["sessions"]),
                _valid("s", as_of),
                sql.Literal("convened"),
                sql.SQL("s.date_last DESC, s.date_first DESC, s.ordinal DESC NULLS LAST, s.key"),
            ),
            params,
        )
        latest = db.fetchone()
        db.execute(
            sessions.format(
                sql.Identifier(schemas["sessions"]),
                _valid("s", as_of),
                sql.SQL("'scheduled', 'postponed'"),
                sql.SQL("s.date_first, s.date_last, s.ordinal NULLS LAST, s.key"),
            ),
            params,
        )
        upcoming = db.fetchone()
        return {
            "id": row["id"],
            "parties": [row["party_a"], row["party_b"]],
            "names": row["names"],
            "established_on": row["established_on"],
            "mandate": row["mandate"],
            "co_chairs": [_tenure(t) for t in tenures if t["until"] is None],
            "latest_session": latest,
            "next_session": upcoming,
            **_recorded(row, as_of),
        }

    def _counts(
        self, db: psycopg.Cursor[Row], schemas: dict[str, str], cid: str, as_of: datetime | None
    ) -> Row:
        params = {"cid": cid, "as_of": as_of}
        db.execute(
            sql.SQL(
                "SELECT s.status, count(*) AS n FROM {}.sessions s "
                "WHERE s.commission = %(cid)s AND {} GROUP BY s.status"
            ).format(sql.Identifier(schemas["sessions"]), _valid("s", as_of)),
            params,
        )
        sessions = {row["status"]: row["n"] for row in db.fetchall()}
        db.execute(
            sql.SQL(
                "SELECT count(*) FILTER (WHERE NOT st.retracted) AS current, "
                "count(*) FILTER (WHERE st.retracted) AS retracted FROM {}.statistics st "
                "WHERE st.commission = %(cid)s AND {}"
            ).format(sql.Identifier(schemas["statistics"]), _valid("st", as_of)),
            params,
        )
        statistics = db.fetchone() or {"current": 0, "retracted": 0}
        db.execute(
            sql.SQL(
                "SELECT i.kind, count(*) AS n FROM {}.instruments i "
                "WHERE i.commission = %(cid)s AND {} GROUP BY i.kind"
            ).format(sql.Identifier(schemas["instruments"]), _valid("i", as_of)),
            params,
        )
        instruments = {row["kind"]: row["n"] for row in db.fetchall()}
        return {
            "sessions": sum(sessions.values()),
            "sessions_by_status": sessions,
            "statistics": statistics["current"],
            "retracted_statistics": statistics["retracted"],
            "protocols": instruments.get("protocol", 0),
            "declaration_references": instruments.get("declaration", 0),
        }

    def _tenures(
        self, db: psycopg.Cursor[Row], schemas: dict[str, str], cid: str, as_of: datetime | None
    ) -> list[Row]:
        db.execute(
            sql.SQL(
                "SELECT cc.tenures FROM {}.co_chairs cc WHERE cc.commission = %(cid)s AND {}"
            ).format(sql.Identifier(schemas["commissions"]), _valid("cc", as_of)),
            {"cid": cid, "as_of": as_of},
        )
        row = db.fetchone()
        return list(row["tenures"]) if row else []

    @answered("commissions", "sessions", "evidence")
    def co_chairs(self, cid: str, on: PartialDate | None, as_of: datetime | None) -> Row | None:
        with self._reading("commissions", "sessions", "evidence") as (db, schemas, position):
            db.execute(
                sql.SQL("SELECT 1 FROM {}.commissions c WHERE c.id = %(cid)s AND {}").format(
                    sql.Identifier(schemas["commissions"]), _valid("c", as_of)
                ),
                {"cid": cid, "as_of": as_of},
            )
            if db.fetchone() is None:
                return None
            tenures = self._tenures(db, schemas, cid, as_of)
            if on is not None:
                first, last = on.first_day.isoformat(), on.last_day.isoformat()
                tenures = [
                    t
                    for t in tenures
                    if (t["since_first"] is None or t["since_first"] <= last)
                    and (t["until_last"] is None or t["until_last"] >= first)
                ]
            by_party: dict[str, list[Row]] = {}
            for tenure in tenures:
                by_party.setdefault(tenure["party"], []).append(_tenure(tenure))
            db.execute(
                sql.SQL(
                    "SELECT s.key, s.date, s.status, s.co_chairs FROM {}.sessions s "
                    "WHERE s.commission = %(cid)s AND {} AND s.status = 'convened' "
                    "ORDER BY s.date_first, s.date_last, s.ordinal NULLS LAST, s.key"
                ).format(sql.Identifier(schemas["sessions"]), _valid("s", as_of)),
                {"cid": cid, "as_of": as_of},
            )
            sessions = [
                {"session": r["key"], "date": r["date"], "co_chairs": r["co_chairs"]}
                for r in db.fetchall()
                if on is None or _overlaps(r["date"], on)
            ]
            answer = {
                "commission": cid,
                "on": None if on is None else str(on),
                "tenures": by_party,
                "sessions": sessions,
                "position": position,
            }
            return self._annotated(db, schemas, as_of, answer)

    # --- sessions -------------------------------------------------------------------------

    @answered("commissions", "sessions", "evidence")
    def sessions(
        self, cid: str, as_of: datetime | None, status: str | None, cursor: str | None, limit: int
    ) -> Page | None:
        with self._reading("commissions", "sessions", "evidence") as (db, schemas, position):
            if not self._commission_exists(db, schemas, cid, as_of):
                return None
            asked = (cid, status)
            after = _sorted_after(cursor, "sessions", asked)
            order = sql.SQL(
                "(coalesce(s.date_first, 'infinity'), coalesce(s.date_last, 'infinity'), "
                "coalesce(s.ordinal, 2147483647), s.key)"
            )
            db.execute(
                sql.SQL(
                    "SELECT s.* FROM {}.sessions s WHERE s.commission = %(cid)s AND {} "
                    "AND (%(status)s::text IS NULL OR s.status = %(status)s) "
                    "AND {} > (%(a0)s::date, %(a1)s::date, %(a2)s::int, %(a3)s::text) "
                    "ORDER BY {} LIMIT %(limit)s"
                ).format(sql.Identifier(schemas["sessions"]), _valid("s", as_of), order, order),
                {
                    "cid": cid,
                    "as_of": as_of,
                    "status": status,
                    "limit": limit + 1,
                    "a0": after[0],
                    "a1": after[1],
                    "a2": after[2],
                    "a3": after[3],
                },
            )
            rows = db.fetchall()
            items = [_session(row, as_of) for row in rows[:limit]]
            next_cursor = None
            if len(rows) > limit:
                last = rows[limit - 1]
                next_cursor = encode_cursor(
                    "sessions",
                    [
                        last["date_first"] or "infinity",
                        last["date_last"] or "infinity",
                        last["ordinal"] if last["ordinal"] is not None else 2147483647,
                        last["key"],
                    ],
                    asked,
                )
            return Page(self._annotated(db, schemas, as_of, items), next_cursor, position)

    @answered("sessions", "statistics", "evidence")
    def session(self, cid: str, key: str, as_of: datetime | None) -> Row | None:
        with self._reading("sessions", "statistics", "evidence") as (db, schemas, position):
            db.execute(
                sql.SQL(
                    "SELECT s.* FROM {}.sessions s WHERE s.commission = %(cid)s "
                    "AND s.key = %(key)s AND {}"
                ).format(sql.Identifier(schemas["sessions"]), _valid("s", as_of)),
                {"cid": cid, "key": key, "as_of": as_of},
            )
            row = db.fetchone()
            if row is None:
                return None
            db.execute(
                sql.SQL(
                    "SELECT st.* FROM {}.statistics st WHERE st.commission = %(cid)s "
                    "AND st.session_key = %(key)s AND {} ORDER BY st.first_position"
                ).format(sql.Identifier(schemas["statistics"]), _valid("st", as_of)),
                {"cid": cid, "key": key, "as_of": as_of},
            )
            statistics = [_statistic(st) for st in db.fetchall()]
            answer = {**_session(row, as_of), "statistics": statistics, "position": position}
            return self._annotated(db, schemas, as_of, answer)

    def _commission_exists(
        self, db: psycopg.Cursor[Row], schemas: dict[str, str], cid: str, as_of: datetime | None
    ) -> bool:
        if "commissions" not in schemas:
            return True
        db.execute(
            sql.SQL("SELECT 1 FROM {}.commissions c WHERE c.id = %(cid)s AND {}").format(
                sql.Identifier(schemas["commissions"]), _valid("c", as_of)
            ),
            {"cid": cid, "as_of": as_of},
        )
        return db.fetchone() is not None

    # --- the timeline ---------------------------------------------------------------------

    @answered("commissions", "sessions", "statistics", "instruments", "evidence")
    def timeline(
        self,
        cid: str,
        start: PartialDate | None,
        end: PartialDate | None,
        as_of: datetime | None,
        cursor: str | None,
        limit: int,
    ) -> Page | None:
        with self._reading("commissions", "sessions", "statistics", "instruments", "evidence") as (
            db,
            schemas,
            position,
        ):
            if not self._commission_exists(db, schemas, cid, as_of):
                return None
            asked = (cid, start, end)
            after = _sorted_after(cursor, "timeline", asked)
            query = sql.SQL(TIMELINE).format(
                sessions=sql.Identifier(schemas["sessions"]),
                instruments=sql.Identifier(schemas["instruments"]),
                statistics=sql.Identifier(schemas["statistics"]),
                valid_s=_valid("s", as_of),
                valid_i=_valid("i", as_of),
                valid_st=_valid("st", as_of),
            )
            db.execute(
                query,
                {
                    "cid": cid,
                    "as_of": as_of,
                    "from": start.first_day if start else None,
                    "to": end.last_day if end else None,
                    "a0": after[0],
                    "a1": after[1],
                    "a2": after[2],
                    "a3": after[3],
                    "limit": limit + 1,
                },
            )
            rows = db.fetchall()
            items = [
                {
                    "kind": r["kind"],
                    "date": r["date"],
                    "session": r["session_key"],
                    "summary": r["summary"],
                    "details": r["details"],
                    "evidence": r["evidence"],
                    "recorded_at": timestamp(r["valid_from"]),
                }
                for r in rows[:limit]
            ]
            next_cursor = None
            if len(rows) > limit:
                last = rows[limit - 1]
                next_cursor = encode_cursor(
                    "timeline",
                    [last["sort_first"], last["sort_last"], last["kind_rank"], last["ref"]],
                    asked,
                )
            return Page(self._annotated(db, schemas, as_of, items), next_cursor, position)

    # --- trade position and statistics ----------------------------------------------------

    @answered("statistics", "sessions", "commissions", "evidence")
    def trade_position(
        self, parties: tuple[str, str], measure: str | None, as_of: datetime | None
    ) -> Row:
        party_a, party_b = sorted(parties)
        with self._reading("statistics", "sessions", "commissions", "evidence") as (
            db,
            schemas,
            position,
        ):
            params = {"a": party_a, "b": party_b, "measure": measure, "as_of": as_of}
            current = sql.SQL(CURRENT_FIGURES).format(
                statistics=sql.Identifier(schemas["statistics"]),
                sessions=sql.Identifier(schemas["sessions"]),
                valid_st=_valid("st", as_of),
                valid_s=_valid("s", as_of),
            )
            db.execute(
                sql.SQL(
                    "SELECT DISTINCT ON (measure, value_kind, reporter, partner) * FROM ({}) f "
                    "ORDER BY measure, value_kind, reporter NULLS FIRST, partner NULLS FIRST, "
                    "sort_last DESC, sort_first DESC, first_position DESC"
                ).format(current),
                params,
            )
            latest = db.fetchall()
            sources = self._sources(db, schemas, [latest])
            answer: Row = {
                "parties": [party_a, party_b],
                "as_of": None if as_of is None else timestamp(as_of),
                "figures": [_figure(row, sources) for row in latest],
                "position": position,
            }
            if measure is not None:
                db.execute(
                    sql.SQL(
                        "SELECT * FROM ({}) f ORDER BY value_kind, sort_first, sort_last, "
                        "from_position"
                    ).format(current),
                    params,
                )
                series = db.fetchall()
                db.execute(
                    sql.SQL(REVISIONS).format(
                        statistics=sql.Identifier(schemas["statistics"]),
                        sessions=sql.Identifier(schemas["sessions"]),
                        valid_s=_valid("s", as_of),
                    ),
                    params,
                )
                revisions = db.fetchall()
                sources = self._sources(db, schemas, [series, revisions])
                answer["measure"] = measure
                answer["series"] = [_figure(row, sources) for row in series]
                answer["revisions"] = [
                    {**_figure(row, sources), **_revision(row, as_of)} for row in revisions
                ]
            return self._annotated(db, schemas, as_of, answer)

    @answered("statistics", "commissions", "evidence")
    def statistic(self, sid: UUID, as_of: datetime | None) -> Row | None:
        with self._reading("statistics", "commissions", "evidence") as (db, schemas, position):
            db.execute(
                sql.SQL("SELECT st.* FROM {}.statistics st WHERE st.id = %(sid)s AND {}").format(
                    sql.Identifier(schemas["statistics"]), _valid("st", as_of)
                ),
                {"sid": sid, "as_of": as_of},
            )
            row = db.fetchone()
            if row is None:
                return None
            sources = self._sources(db, schemas, [[row]])
            answer = {
                **_statistic(row),
                "sources": [
                    sources[e["source"]] for e in row["evidence"] if e["source"] in sources
                ],
                **_recorded(row, as_of),
                "position": position,
            }
            return self._annotated(db, schemas, as_of, answer)

    @answered("statistics", "evidence")
    def statistic_history(self, sid: UUID, as_of: datetime | None) -> Row | None:
        with self._reading("statistics", "evidence") as (db, schemas, position):
            db.execute(
                sql.SQL(
                    "SELECT st.* FROM {}.statistics st WHERE st.id = %(sid)s "
                    "AND (%(as_of)s::timestamptz IS NULL OR st.valid_from <= %(as_of)s) "
                    "ORDER BY st.from_position"
                ).format(sql.Identifier(schemas["statistics"])),
                {"sid": sid, "as_of": as_of},
            )
            rows = db.fetchall()
            if not rows:
                return None
            answer = {
                "id": sid,
                "versions": [
                    {**_statistic(row), **_revision(row, as_of), "reason": row["reason"]}
                    for row in rows
                ],
                "position": position,
            }
            return self._annotated(db, schemas, as_of, answer)

    def _annotated(
        self, db: psycopg.Cursor[Row], schemas: dict[str, str], as_of: datetime | None, answer: A
    ) -> A:
        """The answer with each item of evidence in it given its status and offsets as of the
        read, and each row that cites evidence its weakest status (``evidence_status``)."""
        lists = list(_evidence_lists(answer))
        keys = sorted({(e["source"], quote_key(e["quote"])) for _, items in lists for e in items})
        checked: dict[tuple[str, str], Row] = {}
        if keys:
            db.execute(
                sql.SQL(
                    "SELECT q.source, q.quote_key, q.status, q.start_offset, q.end_offset "
                    "FROM {}.quotes q WHERE (q.source, q.quote_key) IN "
                    "(SELECT * FROM unnest(%(sources)s::text[], %(keys)s::text[])) AND {}"
                ).format(sql.Identifier(schemas["evidence"]), _valid("q", as_of)),
                {
                    "sources": [source for source, _ in keys],
                    "keys": [key for _, key in keys],
                    "as_of": as_of,
                },
            )
            checked = {(row["source"], row["quote_key"]): row for row in db.fetchall()}
        for owner, items in lists:
            name = "evidence" if items is owner.get("evidence") else "superseded_evidence"
            annotated = [
                _with_status(e, checked.get((e["source"], quote_key(e["quote"])))) for e in items
            ]
            owner[name] = annotated
            if name == "evidence":
                owner["evidence_status"] = min(
                    (e["status"] for e in annotated), key=STATUS_ORDER.index, default=None
                )
        return answer

    def _sources(
        self, db: psycopg.Cursor[Row], schemas: dict[str, str], groups: list[list[Row]]
    ) -> dict[str, Row]:
        slugs = sorted({e["source"] for rows in groups for row in rows for e in row["evidence"]})
        if not slugs:
            return {}
        db.execute(
            sql.SQL(
                "SELECT id, title, publisher, url, language, published_on FROM {}.sources "
                "WHERE id = ANY(%(ids)s) AND valid_to IS NULL"
            ).format(sql.Identifier(schemas["commissions"])),
            {"ids": slugs},
        )
        return {row["id"]: dict(row) for row in db.fetchall()}

    @answered("history")
    def stream_version(self, stream: UUID, as_of: datetime | None) -> int | None:
        """The version of an aggregate's stream at ``as_of``: the ETag writes are checked by."""
        with self._reading("history") as (db, schemas, _):
            db.execute(
                sql.SQL(
                    "SELECT max(h.version) AS version FROM {}.history h WHERE h.stream = %(s)s "
                    "AND (%(as_of)s::timestamptz IS NULL OR h.recorded_at <= %(as_of)s)"
                ).format(sql.Identifier(schemas["history"])),
                {"s": stream, "as_of": as_of},
            )
            row = db.fetchone()
            return None if row is None or row["version"] is None else int(row["version"])

    @answered("statistics", "sessions", "evidence")
    def statistics(
        self,
        filters: StatisticFilters,
        as_of: datetime | None,
        cursor: str | None,
        limit: int,
    ) -> Page:
        """The statistics the filters choose, each as it stands (or stood at ``as_of``), in
        the order they were reported."""
        with self._reading("statistics", "sessions", "evidence") as (db, schemas, position):
            asked = filters.asked()
            after = decode_cursor(cursor, "statistics", ["bigint"], asked)[0] if cursor else 0
            conditions, params = filters.conditions(schemas["evidence"], as_of)
            db.execute(
                sql.SQL(STATISTICS).format(
                    statistics=sql.Identifier(schemas["statistics"]),
                    sessions=sql.Identifier(schemas["sessions"]),
                    valid_st=_valid("st", as_of),
                    valid_s=_valid("s", as_of),
                    conditions=sql.SQL("").join(sql.SQL(" AND ") + c for c in conditions),
                ),
                {**params, "as_of": as_of, "after": after, "limit": limit + 1},
            )
            rows = db.fetchall()
            items = [{**_statistic(row), **_recorded(row, as_of)} for row in rows[:limit]]
            next_cursor = (
                encode_cursor("statistics", [rows[limit - 1]["first_position"]], asked)
                if len(rows) > limit
                else None
            )
            return Page(self._annotated(db, schemas, as_of, items), next_cursor, position)

    # --- sources --------------------------------------------------------------------------

    @answered("commissions")
    def sources(
        self,
        publisher: str | None,
        language: str | None,
        as_of: datetime | None,
        cursor: str | None,
        limit: int,
    ) -> Page:
        """Registered sources, by id: their metadata and whether their text is known."""
        with self._reading("commissions") as (db, schemas, position):
            asked = (publisher, language)
            after = decode_cursor(cursor, "sources", ["text"], asked)[0] if cursor else ""
            db.execute(
                sql.SQL(
                    "SELECT so.* FROM {}.sources so WHERE {} AND so.id > %(after)s "
                    "AND (%(publisher)s::text IS NULL OR so.publisher = %(publisher)s) "
                    "AND (%(language)s::text IS NULL OR lower(so.language) = %(language)s "
                    "     OR lower(so.language) LIKE %(subtags)s) "
                    "ORDER BY so.id LIMIT %(limit)s"
                ).format(sql.Identifier(schemas["commissions"]), _valid("so", as_of)),
                {
                    "as_of": as_of,
                    "after": after,
                    "publisher": publisher,
                    "language": None if language is None else language.lower(),
                    "subtags": None if language is None else f"{_escape_like(language.lower())}-%",
                    "limit": limit + 1,
                },
            )
            rows = db.fetchall()
            items = [
                {
                    "id": row["id"],
                    "title": row["title"],
                    "publisher": row["publisher"],
                    "language": row["language"],
                    "published_on": row["published_on"],
                    "url": row["url"],
                    "has_text": row["sha256"] is not None,
                    "sha256": row["sha256"],
                    **_recorded(row, as_of),
                }
                for row in rows[:limit]
            ]
            next_cursor = (
                encode_cursor("sources", [rows[limit - 1]["id"]], asked)
                if len(rows) > limit
                else None
            )
            return Page(items, next_cursor, position)

    # --- instruments ----------------------------------------------------------------------

    @answered("instruments", "sessions", "evidence")
    def declarations(
        self, title: str | None, as_of: datetime | None, cursor: str | None, limit: int
    ) -> Page:
        with self._reading("instruments", "sessions", "evidence") as (db, schemas, position):
            after = (
                decode_cursor(cursor, "declarations", ["date", "text"], (title,))
                if cursor
                else ["0001-01-01", ""]
            )
            db.execute(
                sql.SQL(INSTRUMENTS).format(
                    instruments=sql.Identifier(schemas["instruments"]),
                    sessions=sql.Identifier(schemas["sessions"]),
                    valid_i=_valid("i", as_of),
                    valid_s=_valid("s", as_of),
                ),
                {
                    "as_of": as_of,
                    "title": None if title is None else f"%{_escape_like(title)}%",
                    "a0": after[0],
                    "a1": after[1],
                    "limit": limit + 1,
                },
            )
            rows = db.fetchall()
            items = [
                {
                    "kind": r["kind"],
                    "title": r["title"],
                    "dated": r["dated"],
                    "characterizations": [c for c in r["characterizations"] if c],
                    "sessions": r["sessions"],
                }
                for r in rows[:limit]
            ]
            next_cursor = None
            if len(rows) > limit:
                last = rows[limit - 1]
                next_cursor = encode_cursor(
                    "declarations", [last["sort_first"], last["group_key"]], (title,)
                )
            return Page(self._annotated(db, schemas, as_of, items), next_cursor, position)

    # --- history --------------------------------------------------------------------------

    @answered("history", "commissions")
    def commission_history(
        self, cid: str, as_of: datetime | None, cursor: str | None, limit: int
    ) -> Page | None:
        with self._reading("history", "commissions") as (db, schemas, position):
            if not self._commission_exists(db, schemas, cid, as_of):
                return None
            after = decode_cursor(cursor, "history", ["bigint"], (cid,))[0] if cursor else 0
            db.execute(
                sql.SQL(
                    "SELECT h.* FROM {}.history h WHERE h.commission = %(cid)s "
                    "AND h.position > %(after)s "
                    "AND (%(as_of)s::timestamptz IS NULL OR h.recorded_at <= %(as_of)s) "
                    "ORDER BY h.position LIMIT %(limit)s"
                ).format(sql.Identifier(schemas["history"])),
                {"cid": cid, "after": after, "as_of": as_of, "limit": limit + 1},
            )
            rows = db.fetchall()
            items = [_history(row) for row in rows[:limit]]
            next_cursor = (
                encode_cursor("history", [rows[limit - 1]["position"]], (cid,))
                if len(rows) > limit
                else None
            )
            return Page(items, next_cursor, position)


# The statuses of evidence, weakest first.
STATUS_ORDER = ("mismatch", "unverified", "verified")


def _evidence_lists(value: Any) -> Iterator[tuple[Row, list[Row]]]:
    """Every list of evidence in an answer, with the row holding it (an event's own data,
    in a history, is left as stored)."""
    if isinstance(value, dict):
        for name in ("evidence", "superseded_evidence"):
            items = value.get(name)
            if isinstance(items, list):
                yield value, items
        for name, item in value.items():
            if name not in ("evidence", "superseded_evidence", "data"):
                yield from _evidence_lists(item)
    elif isinstance(value, list):
        for item in value:
            yield from _evidence_lists(item)


def _with_status(item: Row, checked: Row | None) -> Row:
    if checked is None:  # not yet checked: taken as given
        return {**item, "status": "unverified", "offsets": None}
    offsets = None
    if checked["status"] == "verified":
        offsets = {"start": checked["start_offset"], "end": checked["end_offset"]}
    return {**item, "status": checked["status"], "offsets": offsets}


def _sorted_after(cursor: str | None, route: str, asked: Sequence[Any]) -> list[Any]:
    """Where a page of a list sorted by (first date, last date, rank, key) starts."""
    if cursor is None:
        return ["0001-01-01", "0001-01-01", 0, ""]
    return decode_cursor(cursor, route, ["date", "date", "int", "text"], asked)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _overlaps(text: str | None, on: PartialDate) -> bool:
    return text is not None and PartialDate.parse(text).overlaps(on)


def _tenure(tenure: Row) -> Row:
    return {
        "party": tenure["party"],
        "name": tenure["name"],
        "title": tenure["title"],
        "since": tenure["since"],
        "until": tenure["until"],
        "evidence": tenure["evidence"],
    }


def _session(row: Row, as_of: datetime | None) -> Row:
    return {
        "commission": row["commission"],
        "key": row["key"],
        "ordinal": row["ordinal"],
        "kind": row["kind"],
        "status": row["status"],
        "format": row["format"],
        "start": row["start"],
        "end": row["end"],
        "planned": row["planned"],
        "date": row["date"],
        "place": row["place"],
        "co_chairs": row["co_chairs"],
        "topics": row["topics"],
        "summary": row["summary"],
        "reasons": row["reasons"],
        "evidence": row["evidence"],
        "protocol": row["protocol"],
        "declarations": row["declarations"],
        "corrections": row["corrections"],
        **_recorded(row, as_of),
    }


def _figure(row: Row, sources: dict[str, Row]) -> Row:
    return {
        **_statistic(row),
        "period_used": row["period"] or row.get("session_date"),
        "session_date": row.get("session_date"),
        "sources": [sources[e["source"]] for e in row["evidence"] if e["source"] in sources],
        "recorded_at": timestamp(row["valid_from"]),
    }


def _revision(row: Row, as_of: datetime | None) -> Row:
    ended = row["valid_to"] is not None and (as_of is None or row["valid_to"] <= as_of)
    return {
        "change": row["change"],
        "reason": row["reason"],
        "recorded_by": row["recorded_by"],
        "recorded_at": timestamp(row["valid_from"]),
        "superseded_at": timestamp(row["valid_to"]) if ended else None,
        "current": not ended,
        "position": row["from_position"],
    }


def _history(row: Row) -> Row:
    return {
        "position": row["position"],
        "type": row["type"],
        "recorded_at": timestamp(row["recorded_at"]),
        "recorded_by": row["recorded_by"],
        "session": row["session_key"],
        "statistic": row["statistic_id"],
        "reason": row["reason"],
        "data": row["data"],
    }


# The page is chosen on sort keys alone; the details are built for its rows only.
TIMELINE = """
WITH s AS (
    SELECT * FROM {sessions}.sessions s WHERE s.commission = %(cid)s AND {valid_s}
), entries AS (
    SELECT 'session' AS kind, 0 AS kind_rank, s.key AS session_key,
           lpad(coalesce(s.ordinal, 2147483647)::text, 10, '0') || s.key AS ref,
           s.date_first, s.date_last, NULL::uuid AS statistic_id, NULL::text AS instrument
    FROM s
    UNION ALL
    SELECT i.kind, CASE i.kind WHEN 'protocol' THEN 1 ELSE 2 END, i.session_key,
           lpad(i.from_position::text, 20, '0'), coalesce(i.dated_first, s.date_first),
           coalesce(i.dated_last, s.date_last), NULL, i.ref
    FROM {instruments}.instruments i LEFT JOIN s ON s.key = i.session_key
    WHERE i.commission = %(cid)s AND {valid_i}
    UNION ALL
    SELECT 'statistic', 3, st.session_key, lpad(st.first_position::text, 20, '0'),
           coalesce(st.period_first, s.date_first), coalesce(st.period_last, s.date_last),
           st.id, NULL
    FROM {statistics}.statistics st LEFT JOIN s ON s.key = st.session_key
    WHERE st.commission = %(cid)s AND {valid_st} AND NOT st.retracted
), page AS (
    SELECT e.*, coalesce(e.date_first, 'infinity') AS sort_first,
           coalesce(e.date_last, 'infinity') AS sort_last
    FROM entries e
    WHERE (%(from)s::date IS NULL OR e.date_last >= %(from)s)
      AND (%(to)s::date IS NULL OR e.date_first <= %(to)s)
      AND (coalesce(e.date_first, 'infinity'), coalesce(e.date_last, 'infinity'), e.kind_rank,
           e.ref) > (%(a0)s::date, %(a1)s::date, %(a2)s::int, %(a3)s::text)
    ORDER BY sort_first, sort_last, e.kind_rank, e.ref
    LIMIT %(limit)s
)
SELECT p.kind, p.kind_rank, p.ref, p.sort_first, p.sort_last, p.session_key,
       CASE p.kind WHEN 'session' THEN s.date
                   WHEN 'statistic' THEN coalesce(st.period, s.date)
                   ELSE coalesce(i.dated, s.date) END AS date,
       CASE p.kind
           WHEN 'session' THEN concat_ws(' ', 'Session', s.key, '(' || s.kind || ')', s.status,
                                         'in ' || (s.place ->> 'city'))
           WHEN 'protocol' THEN concat_ws(' ', 'Protocol signed at session', p.session_key)
           WHEN 'declaration' THEN concat_ws(' ', i.title, 'cited at session', p.session_key)
           ELSE concat_ws(' ', st.measure, st.value_kind, st.qualifier, st.value_text, st.unit)
       END AS summary,
       CASE p.kind
           WHEN 'session' THEN jsonb_build_object(
               'ordinal', s.ordinal, 'kind', s.kind, 'status', s.status, 'format', s.format,
               'place', s.place, 'co_chairs', s.co_chairs, 'topics', s.topics,
               'reasons', s.reasons)
           WHEN 'statistic' THEN jsonb_build_object(
               'id', st.id, 'measure', st.measure, 'value_kind', st.value_kind,
               'value', st.value_text, 'unit', st.unit, 'qualifier', st.qualifier,
               'reporter', st.reporter, 'partner', st.partner, 'period', st.period,
               'stated_by', st.stated_by, 'revision', st.revision)
           ELSE jsonb_build_object(
               'title', i.title, 'dated', i.dated, 'characterization', i.characterization,
               'signatories', i.signatories)
       END AS details,
       CASE p.kind WHEN 'session' THEN s.evidence WHEN 'statistic' THEN st.evidence
                   ELSE i.evidence END AS evidence,
       CASE p.kind WHEN 'session' THEN s.valid_from WHEN 'statistic' THEN st.valid_from
                   ELSE i.valid_from END AS valid_from
FROM page p
LEFT JOIN s ON s.key = p.session_key
LEFT JOIN {instruments}.instruments i
       ON p.instrument IS NOT NULL AND i.commission = %(cid)s
      AND i.session_key = p.session_key AND i.kind = p.kind AND i.ref = p.instrument
      AND {valid_i}
LEFT JOIN {statistics}.statistics st ON st.id = p.statistic_id AND {valid_st}
ORDER BY p.sort_first, p.sort_last, p.kind_rank, p.ref
"""

CURRENT_FIGURES = """
SELECT st.*, s.date AS session_date,
       coalesce(st.period_first, s.date_first, 'infinity') AS sort_first,
       coalesce(st.period_last, s.date_last, 'infinity') AS sort_last
FROM {statistics}.statistics st
LEFT JOIN {sessions}.sessions s
       ON s.commission = st.commission AND s.key = st.session_key AND {valid_s}
WHERE st.party_a = %(a)s AND st.party_b = %(b)s AND {valid_st} AND NOT st.retracted
  AND (%(measure)s::text IS NULL OR st.measure = %(measure)s)
"""

REVISIONS = """
SELECT st.*, s.date AS session_date
FROM {statistics}.statistics st
LEFT JOIN {sessions}.sessions s
       ON s.commission = st.commission AND s.key = st.session_key AND {valid_s}
WHERE st.party_a = %(a)s AND st.party_b = %(b)s
  AND st.id IN (SELECT id FROM {statistics}.statistics WHERE measure = %(measure)s)
  AND (%(as_of)s::timestamptz IS NULL OR st.valid_from <= %(as_of)s)
ORDER BY st.first_position, st.from_position
"""

INSTRUMENTS = """
WITH s AS (SELECT commission, key, date, date_first FROM {sessions}.sessions s WHERE {valid_s}),
grouped AS (
    SELECT CASE i.kind WHEN 'declaration'
                THEN 'declaration:' || lower(i.title) || '@' || coalesce(i.dated, '')
                ELSE 'protocol:' || i.commission || '/' || i.session_key END AS group_key,
           i.kind, min(i.title) AS title, min(i.dated) AS dated,
           coalesce(min(i.dated_first), min(s.date_first), 'infinity') AS sort_first,
           array_agg(DISTINCT i.characterization) AS characterizations,
           jsonb_agg(jsonb_build_object('commission', i.commission, 'session', i.session_key,
                                        'session_date', s.date,
                                        'role', CASE i.kind WHEN 'protocol' THEN 'signed'
                                                ELSE 'cited' END,
                                        'characterization', i.characterization,
                                        'evidence', i.evidence)
                     ORDER BY s.date_first, i.session_key) AS sessions
    FROM {instruments}.instruments i
    LEFT JOIN s ON s.commission = i.commission AND s.key = i.session_key
    WHERE {valid_i} AND (%(title)s::text IS NULL OR i.title ILIKE %(title)s)
    GROUP BY 1, 2
)
SELECT * FROM grouped
WHERE (sort_first, group_key) > (%(a0)s::date, %(a1)s::text)
ORDER BY sort_first, group_key
LIMIT %(limit)s
"""

# The session is joined for its date, which a statistic without a period concerns.
STATISTICS = """
SELECT st.*
FROM {statistics}.statistics st
LEFT JOIN {sessions}.sessions s
       ON s.commission = st.commission AND s.key = st.session_key AND {valid_s}
WHERE {valid_st} AND st.first_position > %(after)s{conditions}
ORDER BY st.first_position
LIMIT %(limit)s
"""
