"""Keeping the read models up to date, exactly once, and rebuilding them beside the live ones.

The runner reads the log in batches, and applies each batch to every read model in one
transaction that also moves each model's tracking position. It reads the stored events with a
plain query and turns each into a :class:`~projections.values.Recorded` once, straight from its
stored JSON, for all models; an event no model handles (a ``StatisticLocated``) is not decoded
at all. The transaction begins by locking the models' ``rm_state`` rows, and applies to each
only the events after the position it finds there: two runners (``diprec serve`` and
``diprec project``) may run at once, and neither applies an event the other has applied.

A rebuild loads a new generation in large batches, reading the next while it applies one, with
only the indexes its writes need, keeping the generation's current rows in memory; it builds
the others and analyses the tables once the log is loaded, then catches up and switches in one
transaction per model. Of a long log, the models marked ``rebuild_apart`` are loaded by a
process of their own, which reads the log itself, while this one loads the others.

The event store takes a table lock on insert, so events commit in the order of their
positions; a reader that asks for "everything after n" never skips one committed later. Gaps
in positions (ids burnt by rolled-back inserts) are simply absent from the batch.

It wakes when the event store announces an insert (LISTEN on the store's channel), and polls
anyway every ``poll_interval`` seconds, so a lost notification never stalls it.

One event a model cannot apply (a value its tables cannot hold, a fault of its code, an event
stored by another version) stops that model only. A batch that fails so is applied again to
each model in a transaction of its own; for a model that fails alone the batch is bisected,
each beginning of it tried in a savepoint that is rolled back, until the first event it
cannot apply is found; it is then given every event before that one and marked *stalled*
there, in one transaction, and later batches leave it out. A failure of the connection or the server
(``TRANSIENT_ERRORS``) is no model's fault: the batch is retried as it was, after a pause. A
runner starting afresh lets the stalled models try again; a rebuild that gets past the event
replaces the stalled generation. A rebuild that cannot apply an event fails with the model,
the event and the error (:class:`CannotApplyError`), and drops the generation it was building.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import threading
import time
import traceback
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import JSONTranscoder, Transcoding
from eventsourcing.utils import resolve_topic
from psycopg import sql

from domain.application import Records
from projections.batch import CURRENT_ROWS_LIMIT, Batch, CurrentRows, Facts
from projections.models import READ_MODELS, ReadModel, event_name
from projections.store import EVENTS_TABLE, Generation, ReadModelStore, schema_name
from projections.values import Reading, Recorded, StoredForm

logger = logging.getLogger("diprec.projections")

EVENTS_CHANNEL = "diprec_events"
READ_EVENTS = sql.SQL(
    "SELECT notification_id, originator_id, originator_version, topic, state FROM {} "
    "WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
).format(sql.Identifier(EVENTS_TABLE))
# The events of a span of positions, but those of topics the reader knows it does not need.
READ_SPAN = sql.SQL(
    "SELECT notification_id, originator_id, originator_version, topic, state FROM {} "
    "WHERE notification_id > %s AND notification_id <= %s AND topic <> ALL(%s::text[]) "
    "ORDER BY notification_id"
).format(sql.Identifier(EVENTS_TABLE))
REBUILD_BATCH_FACTOR = 10
# Serialises rebuilds of one read model, across processes.
REBUILD_LOCK = 0x72626C64  # "rbld"
# Memory each index build of a rebuild may sort in.
INDEX_BUILD_MEMORY = "256MB"
# While a rebuild loads: collect cyclic garbage after this many more objects than were freed.
# Above a batch's worth, so a collection seldom walks the objects of the batch in hand.
REBUILD_GC_THRESHOLD = 1_000_000
# A rebuild of a log this long loads the models marked ``rebuild_apart`` in a process of their
# own; a shorter one is over before such a process would have started.
REBUILD_APART_FROM = 100_000
# Failures of the connection or the server (lost, restarting, a query cancelled, a deadlock, a
# server become a standby): no fault of an event or of a model's code, so nothing is stalled
# for them; the batch is tried again as it was. Any other error is a fault, even one that may
# pass (a MemoryError): a stall is seen, and ends with a restart, where a batch retried for
# ever because of one event would stop the world again.
TRANSIENT_ERRORS = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    psycopg.errors.ReadOnlySqlTransaction,
)
TOPIC_AT = sql.SQL("SELECT topic FROM {} WHERE notification_id = %s").format(
    sql.Identifier(EVENTS_TABLE)
)


_loading = 0
_loading_lock = threading.Lock()
_thresholds_before = gc.get_threshold()


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Collects cyclic garbage less often while rebuilds load the log.

    A rebuild's batch holds its events and rows (hundreds of thousands of objects) until it
    is written; at Python's default thresholds the collector walks every live object again
    and again meanwhile: a third of a rebuild's time at a million events. The loads make no
    cycles, so collecting rarely costs no memory; the thresholds in force before come back
    when the last load in the process ends.
    """
    global _loading, _thresholds_before
    with _loading_lock:
        if _loading == 0:
            _thresholds_before = gc.get_threshold()
            gc.set_threshold(REBUILD_GC_THRESHOLD, *_thresholds_before[1:])
        _loading += 1
    try:
        yield
    finally:
        with _loading_lock:
            _loading -= 1
            if _loading == 0:
                gc.set_threshold(*_thresholds_before)


class RebuildInProgressError(Exception):
    """The read model is being rebuilt already, here or in another process."""


class CannotApplyError(Exception):
    """A read model cannot apply an event of the log: a value its tables cannot hold, an event
    its code does not expect, a fault of its code. ``error`` is what failed, in one line."""

    def __init__(self, model: str, position: int, topic: str, error: str) -> None:
        super().__init__(model, position, topic, error)  # as pickled, from a process apart
        self.model = model
        self.position = position
        self.topic = topic
        self.error = error

    def __str__(self) -> str:
        return (
            f"read model {self.model} cannot apply event {self.position} ({self.topic}): "
            f"{self.error}"
        )


@dataclass(frozen=True, slots=True)
class LogPage:
    """The log from one position up to ``last``: how many events it holds, and those of them
    some read model handles."""

    events: list[Recorded]
    last: int
    count: int


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A stored event that cannot be read as a :class:`Recorded`: a topic that names no class
    (``name`` None), or a state its class cannot read."""

    position: int
    topic: str
    name: str | None
    error: Exception

    def concerns(self, model: ReadModel) -> bool:
        """Whether the model may need the event: it handles its name, or nobody can tell."""
        return self.name is None or model.handles(self.name)


@dataclass(frozen=True, slots=True)
class CheckedPage:
    """A page of the log read event by event: an event that cannot be read is kept, as an
    :class:`Unreadable`, where it stands."""

    items: list[Recorded | Unreadable]
    last: int
    count: int

    def of(self, model: ReadModel) -> list[Recorded | Unreadable]:
        """The page as the model sees it: without the unreadable events it has no use for."""
        return [item for item in self.items if isinstance(item, Recorded) or item.concerns(model)]


class LogReader:
    """Reads the log in pages, each event a model handles turned into a
    :class:`~projections.values.Recorded` once for all the models.

    Pages of a span of positions (a rebuild's) leave out, in the query, the events of every
    topic it has met that none of its models handles: a StatisticLocated, or in a process
    loading only the statistics, more than half the log.
    """

    def __init__(
        self,
        store: ReadModelStore,
        transcodings: Mapping[str, Transcoding],
        models: Iterable[ReadModel],
    ) -> None:
        self.store = store
        self.models = list(models)
        self._stored_form = StoredForm(transcodings)
        # How each topic's events are read, or None when no model handles them.
        self._topics: dict[str, Reading | None] = {}

    def read(self, after: int, limit: int, within: psycopg.Cursor[Any] | None = None) -> LogPage:
        """The next ``limit`` events after position ``after``; read in the transaction of the
        cursor ``within``, if given."""
        rows = self._rows(READ_EVENTS, (after, limit), within)
        return LogPage(self._recorded(rows), rows[-1][0] if rows else after, len(rows))

    def read_span(self, after: int, until: int) -> LogPage:
        """The events after position ``after`` up to ``until``, those of topics known to be
        of no use to the models left out. The page ends at ``until`` whatever it holds."""
        unused = [topic for topic, reading in self._topics.items() if reading is None]
        rows = self._rows(READ_SPAN, (after, until, unused))
        return LogPage(self._recorded(rows), until, len(rows))

    def read_each(
        self,
        after: int,
        *,
        limit: int | None = None,
        until: int | None = None,
        within: psycopg.Cursor[Any] | None = None,
    ) -> CheckedPage:
        """What ``read`` (given ``limit``) or ``read_span`` (given ``until``) reads, each event
        read on its own, so that one that cannot be read is named rather than raised."""
        if until is not None:
            unused = [topic for topic, reading in self._topics.items() if reading is None]
            rows = self._rows(READ_SPAN, (after, until, unused), within)
            last = until
        else:
            rows = self._rows(READ_EVENTS, (after, limit), within)
            last = rows[-1][0] if rows else after
        items: list[Recorded | Unreadable] = []
        for position, stream, version, topic, state in rows:
            try:
                reading = self._handled(topic)
            except Exception as error:  # no class answers to the topic
                items.append(Unreadable(position, topic, None, error))
                continue
            if reading is None:
                continue
            try:
                items.append(self._stored_form.recorded(position, reading, stream, version, state))
            except Exception as error:
                items.append(Unreadable(position, topic, reading.name, error))
        return CheckedPage(items, last, len(rows))

    def _rows(
        self,
        query: sql.Composed,
        params: tuple[Any, ...],
        within: psycopg.Cursor[Any] | None = None,
    ) -> list[tuple[int, UUID, int, str, bytes]]:
        with ExitStack() as stack:
            connection = (
                within.connection
                if within is not None
                else stack.enter_context(self.store.pool.connection())
            )
            cursor = stack.enter_context(connection.cursor(binary=True))
            return cursor.execute(query, params, prepare=True).fetchall()

    def _recorded(self, rows: list[tuple[int, UUID, int, str, bytes]]) -> list[Recorded]:
        return [
            self._stored_form.recorded(position, reading, stream, version, state)
            for position, stream, version, topic, state in rows
            if (reading := self._handled(topic)) is not None
        ]

    def _handled(self, topic: str) -> Reading | None:
        """How the events of ``topic`` are read, if some read model handles them."""
        if topic not in self._topics:
            event_class = resolve_topic(topic)
            name = event_name(event_class)
            handled = any(model.handles(name) for model in self.models)
            self._topics[topic] = self._stored_form.reading(event_class, name) if handled else None
        return self._topics[topic]


class Projector:
    """Applies the log to the read models; the engine under the runner and the rebuilds."""

    def __init__(
        self,
        records: Records,
        store: ReadModelStore,
        models: Sequence[ReadModel] = READ_MODELS,
        batch_size: int = 500,
        rows_in_memory: int = CURRENT_ROWS_LIMIT,
        apart_from: int = REBUILD_APART_FROM,
    ) -> None:
        self.records = records
        self.store = store
        self.models = {model.name: model for model in models}
        self.batch_size = batch_size
        # How many current rows of each generation a rebuild keeps in memory.
        self.rows_in_memory = rows_in_memory
        # From how many events in the log a rebuild loads some models in a process apart.
        self.apart_from = apart_from
        self.facts = Facts()
        self._rebuilding = {name: threading.Lock() for name in self.models}
        transcoder = records.mapper.transcoder
        assert isinstance(transcoder, JSONTranscoder)
        self.transcodings = transcoder.names
        self.log = LogReader(store, transcoder.names, models)

    # --- set-up ---------------------------------------------------------------------------

    def prepare(self) -> list[str]:
        """Creates what is missing: the state table, a first live generation of each model.

        Returns the names of models whose live generation was built by other code, and so
        need a rebuild.
        """
        self.store.create_state_table()
        stale: list[str] = []
        for model in self.models.values():
            with self.store.transaction() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (REBUILD_LOCK, model.name)
                )
                cursor.execute(
                    "SELECT generation, code_version FROM rm_state "
                    "WHERE name = %s AND status = 'live'",
                    (model.name,),
                )
                live = cursor.fetchone()
                if live is None:
                    self._create_generation(cursor, model, 1, "live", indexed=True)
                elif live["code_version"] != model.version:
                    stale.append(model.name)
        self.store.moved()
        return stale

    def _create_generation(
        self,
        cursor: psycopg.Cursor[dict[str, Any]],
        model: ReadModel,
        generation: int,
        status: str,
        *,
        indexed: bool,
    ) -> Generation:
        """Creates a generation's schema and tables; with the indexes only queries need, unless
        it is to be loaded in bulk first (a rebuild builds them once it has read the log)."""
        schema = schema_name(model.name, generation)
        cursor.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        cursor.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        cursor.execute(model.create_statements(schema))
        if indexed:
            cursor.execute(model.index_statements(schema))
        cursor.execute(
            "INSERT INTO rm_state (name, generation, code_version, status, position) "
            "VALUES (%s, %s, %s, %s, 0)",
            (model.name, generation, model.version, status),
        )
        return Generation(model.name, generation, model.version, status, 0)

    # --- applying the log -----------------------------------------------------------------

    def read(self, after: int, limit: int) -> LogPage:
        """The next ``limit`` events after position ``after``."""
        return self.log.read(after, limit)

    def catch_up(self) -> int:
        """Applies every event after the live models' positions; returns how many batches."""
        batches = 0
        while applied := self._apply_next():
            batches += 1
            if applied < self.batch_size:
                break
        return batches

    def _apply_next(self) -> int:
        """Applies the next batch of the log to every live model that is not stalled, in one
        transaction. Returns how many events the batch held (0: every model was up to date).

        A batch that fails with a fault, not a transient error, is applied to each model
        apart: the models that can apply it move on, one that cannot is stalled at the first
        event it cannot apply."""
        try:
            return self._apply_batch(list(self.models))
        except TRANSIENT_ERRORS:
            raise
        except Exception:
            return max(self._apply_alone(name) for name in self.models)

    def _apply_alone(self, name: str) -> int:
        """Applies the next batch to one model in a transaction of its own; stalls it at the
        first event of the batch it cannot apply."""
        try:
            return self._apply_batch([name])
        except TRANSIENT_ERRORS:
            raise
        except Exception:
            return self._apply_until_failure(self.models[name])

    def _apply_batch(self, names: list[str]) -> int:
        """Applies the next batch of the log to the models named, those live and not stalled,
        in one transaction: one commit, and each model's position moves with its rows.
        Returns how many events the batch held (0: every model was up to date).

        The transaction begins by locking the live models' state rows, in name order, so
        runners and rebuilds never wait on each other in a circle, and reads the batch from
        the lowest position it finds there."""
        with self.store.transaction() as cursor:
            cursor.execute(
                "SELECT name, generation, position FROM rm_state "
                "WHERE status = 'live' AND stall_event IS NULL AND name = ANY(%s) "
                "ORDER BY name FOR UPDATE",
                (names,),
            )
            live = cursor.fetchall()
            if not live:
                return 0
            page = self.log.read(min(row["position"] for row in live), self.batch_size, cursor)
            if not page.count:
                return 0
            batches = [
                self._apply(
                    cursor, self.models[row["name"]], row["generation"], row["position"], page
                )[1]
                for row in live
            ]
            cursor.execute(
                "UPDATE rm_state SET position = %s "
                "WHERE status = 'live' AND name = ANY(%s) AND position < %s",
                (page.last, [row["name"] for row in live], page.last),
            )
        self.store.moved()
        for batch in batches:
            batch.committed()
        return page.count

    def _apply(
        self,
        cursor: psycopg.Cursor[dict[str, Any]],
        model: ReadModel,
        generation: int,
        position: int,
        page: LogPage,
    ) -> tuple[int, Batch]:
        return apply_page(cursor, model, generation, position, page, self.facts)

    def _apply_until_failure(self, model: ReadModel) -> int:
        """Applies the next batch to one model, which failed to apply it whole, up to the
        first event it cannot apply, and stalls it there; all of it, if it fails no more.
        Returns how many events the batch held.

        Its rows, its position and its stall commit together, so the events before the one
        it stopped at are applied exactly once. The batch is read event by event, so that an
        event that cannot even be read stops only the models that may need it."""
        with self.store.transaction() as cursor:
            cursor.execute(
                "SELECT generation, position FROM rm_state "
                "WHERE status = 'live' AND stall_event IS NULL AND name = %s FOR UPDATE",
                (model.name,),
            )
            row = cursor.fetchone()
            if row is None:  # stalled or replaced meanwhile, by another runner or a rebuild
                return 0
            generation, position = row["generation"], row["position"]
            page = self.log.read_each(position, limit=self.batch_size, within=cursor)
            failure = first_failure(cursor, model, generation, page.of(model), self.facts)
            stall = None
            if failure is None:
                batch = apply_events(cursor, model, generation, events_of(page), self.facts)
                cursor.execute(
                    "UPDATE rm_state SET position = %s WHERE name = %s AND generation = %s",
                    (page.last, model.name, generation),
                )
            else:
                batch = apply_events(cursor, model, generation, failure.before, self.facts)
                stall = failure.reported(cursor, model)
                cursor.execute(
                    "UPDATE rm_state SET position = %s, stall_event = %s, stall_topic = %s, "
                    "stall_error = %s, stalled_since = now() WHERE name = %s AND generation = %s",
                    (
                        stall.position - 1,
                        stall.position,
                        stall.topic,
                        stall.error,
                        model.name,
                        generation,
                    ),
                )
        self.store.moved()
        batch.committed()
        if stall is not None:
            logger.error("%s; it is stalled at position %s", stall, stall.position - 1)
        return page.count

    def retry_stalled(self) -> list[str]:
        """Lets the stalled models try again from where they stopped, since the code may have
        been fixed; a runner does so as it starts. Returns their names."""
        with self.store.transaction() as cursor:
            cursor.execute(
                "UPDATE rm_state SET stall_event = NULL, stall_topic = NULL, "
                "stall_error = NULL, stalled_since = NULL "
                "WHERE status = 'live' AND stall_event IS NOT NULL AND name = ANY(%s) "
                "RETURNING name, position",
                (list(self.models),),
            )
            retried = cursor.fetchall()
        if retried:
            self.store.moved()
        for row in retried:
            logger.info(
                "stalled read model %s tries again from position %s", row["name"], row["position"]
            )
        return [row["name"] for row in retried]

    def still_fails(self, name: str) -> CannotApplyError | None:
        """Whether a stalled model still cannot apply the event it stalled at, tried on its
        live generation and rolled back: a rebuild would fail there too. None when it can, or
        when this code did not build that generation (its tables may differ), or the model is
        not stalled."""
        model = self.models[name]
        live = self.store.live().get(name)
        if live is None or live.stall is None or live.code_version != model.version:
            return None
        with self.store.transaction() as cursor:
            page = self.log.read_each(live.position, until=live.stall.event, within=cursor)
            failure = first_failure(cursor, model, live.generation, page.of(model), self.facts)
            return None if failure is None else failure.reported(cursor, model)

    # --- rebuilding -----------------------------------------------------------------------

    def rebuild(self, name: str) -> Generation:
        """Builds a new generation of a read model from the whole log beside the live one,
        and makes it live once it has caught up. Queries see the old one until then."""
        return self.rebuild_all([name])[0]

    def rebuild_all(self, names: Sequence[str]) -> list[Generation]:
        """Rebuilds several read models in one pass over the log, each event decoded once;
        each switches to its new generation when the pass has caught up."""
        taken: list[str] = []
        try:
            for name in names:
                if not self._rebuilding[name].acquire(blocking=False):
                    raise RebuildInProgressError(name)
                taken.append(name)
            with self.store.pool.connection() as lock_connection:
                locked: list[str] = []
                try:
                    for name in names:
                        row = lock_connection.execute(
                            "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (REBUILD_LOCK, name)
                        ).fetchone()
                        if not (row and row[0]):
                            raise RebuildInProgressError(name)
                        locked.append(name)
                    return self._rebuild([self.models[name] for name in names])
                finally:
                    for name in locked:
                        lock_connection.execute(
                            "SELECT pg_advisory_unlock(%s, hashtext(%s))", (REBUILD_LOCK, name)
                        )
        finally:
            for name in taken:
                self._rebuilding[name].release()

    def is_rebuilding(self, name: str) -> bool:
        return self._rebuilding[name].locked()

    def _rebuild(self, models: list[ReadModel]) -> list[Generation]:
        building: dict[str, Generation] = {}
        with self.store.transaction() as cursor:
            for model in models:
                cursor.execute(
                    "SELECT coalesce(max(generation), 0) AS latest FROM rm_state WHERE name = %s",
                    (model.name,),
                )
                row = cursor.fetchone()
                assert row is not None
                # A generation left building by a rebuild that crashed is never resumed.
                cursor.execute(
                    "DELETE FROM rm_state WHERE name = %s AND status = 'building' "
                    "RETURNING generation",
                    (model.name,),
                )
                for abandoned in cursor.fetchall():
                    cursor.execute(
                        sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                            sql.Identifier(schema_name(model.name, abandoned["generation"]))
                        )
                    )
                building[model.name] = self._create_generation(
                    cursor, model, row["latest"] + 1, "building", indexed=False
                )
        switched: list[Generation] = []
        try:
            self._load_and_switch(models, building, switched)
        except BaseException:
            # Queries go on reading the live generations; none is left half-built.
            done = {generation.name for generation in switched}
            self._abandon([building[model.name] for model in models if model.name not in done])
            raise
        return switched

    def _load_and_switch(
        self, models: list[ReadModel], building: dict[str, Generation], switched: list[Generation]
    ) -> None:
        """Loads the log into the generations being built, then makes each live in turn (adding
        it to ``switched``) once it has caught up."""
        started = time.monotonic()
        # Catch up outside the switch, batch by batch, while the live generations serve.
        generations = {name: generation.generation for name, generation in building.items()}
        size = self.batch_size * REBUILD_BATCH_FACTOR
        # The log is loaded up to where it ends now; what follows is caught up with.
        until = self.store.max_position()
        apart = [model for model in models if model.rebuild_apart]
        here = [model for model in models if not model.rebuild_apart]
        if (
            not (apart and here)
            or until < self.apart_from
            or multiprocessing.current_process().daemon  # which may start no process
        ):
            apart, here = [], models
        # Indexes are built once, from the loaded tables, rather than row by row; two models
        # at a time, so the server uses a second core; those of the models loaded here while
        # the process apart still loads. Fresh tables have no planner statistics; queries
        # would be planned blind.
        with (
            ThreadPoolExecutor(max_workers=2, thread_name_prefix="rebuild-index") as builders,
            _loading_apart(
                LoadApart(
                    self.store.conninfo,
                    self.transcodings,
                    apart,
                    generations,
                    until,
                    size,
                    self.rows_in_memory,
                )
            ) as loaded_apart,
        ):
            # Each process reads the log for its own models, and skips what they do not handle.
            reader = LogReader(self.store, self.transcodings, here) if apart else self.log
            position = load(
                self.store,
                reader,
                here,
                generations,
                until,
                size,
                self.rows_in_memory,
                self.facts,
            )
            positions = dict.fromkeys((model.name for model in here), position)
            finishing = [
                builders.submit(self._finish, model, building[model.name]) for model in here
            ]
            if apart:
                positions.update(dict.fromkeys((model.name for model in apart), loaded_apart()))
                finishing += [
                    builders.submit(self._finish, model, building[model.name]) for model in apart
                ]
            for finished in finishing:
                finished.result()
        for model in models:
            generation = building[model.name].generation
            try:
                last, pending = self._switch(model, generation, positions[model.name])
            except TRANSIENT_ERRORS:
                raise
            except Exception as error:
                failure = diagnose(
                    self.store,
                    self.log,
                    [model],
                    {model.name: generation},
                    positions[model.name],
                    self.store.max_position(),
                    self.facts,
                )
                if failure is None:
                    raise
                raise failure from error
            self.store.moved()
            for batch in pending:
                batch.committed()
            logger.info(
                "rebuilt read model %s as generation %s up to position %s in %.1f s",
                model.name,
                generation,
                last,
                time.monotonic() - started,
            )
            self.drop_retired(model.name, keep=1)
            switched.append(Generation(model.name, generation, model.version, "live", last))

    def _switch(self, model: ReadModel, generation: int, position: int) -> tuple[int, list[Batch]]:
        """Catches a loaded generation up from ``position`` and makes it live, in one
        transaction; returns the position it went live at, and the batches to tell once
        committed."""
        with self.store.transaction() as cursor:
            # Hold the live row: runners wait, then find the new generation live.
            cursor.execute(
                "SELECT generation FROM rm_state WHERE name = %s AND status = 'live' FOR UPDATE",
                (model.name,),
            )
            old = cursor.fetchone()
            last, pending = position, []
            while (page := self.read(last, self.batch_size)).count:
                last, batch = self._apply(cursor, model, generation, last, page)
                pending.append(batch)
            if old is not None:
                cursor.execute(
                    "UPDATE rm_state SET status = 'retired', switched_at = now() "
                    "WHERE name = %s AND generation = %s",
                    (model.name, old["generation"]),
                )
            cursor.execute(
                "UPDATE rm_state SET status = 'live', switched_at = now(), position = %s "
                "WHERE name = %s AND generation = %s",
                (last, model.name, generation),
            )
        return last, pending

    def _abandon(self, generations: list[Generation]) -> None:
        """Drops generations a failed rebuild was building. If the database cannot be reached
        (the failure may be that), the next rebuild drops them instead."""
        try:
            with self.store.transaction() as cursor:
                for generation in generations:
                    cursor.execute(
                        "DELETE FROM rm_state "
                        "WHERE name = %s AND generation = %s AND status = 'building'",
                        (generation.name, generation.generation),
                    )
                    cursor.execute(
                        sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                            sql.Identifier(generation.schema)
                        )
                    )
        except Exception as error:
            logger.warning(
                "could not drop the generations of a failed rebuild (%s); the next rebuild will",
                one_line(error),
            )

    def _finish(self, model: ReadModel, generation: Generation) -> None:
        """Builds the indexes only queries need of a loaded generation, and analyses it."""
        with self.store.transaction() as cursor:
            cursor.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'")
            cursor.execute(model.index_statements(generation.schema))
            for table in model.tables:
                cursor.execute(
                    sql.SQL("ANALYZE {}.{}").format(
                        sql.Identifier(generation.schema), sql.Identifier(table.name)
                    )
                )

    def drop_retired(self, name: str, keep: int = 0) -> None:
        """Drops retired generations but the newest ``keep``: queries that began just before
        a switch may still be reading the one retired last."""
        with self.store.transaction() as cursor:
            cursor.execute(
                "SELECT generation FROM rm_state WHERE name = %s AND status = 'retired' "
                "ORDER BY generation DESC OFFSET %s",
                (name, keep),
            )
            for row in cursor.fetchall():
                cursor.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        sql.Identifier(schema_name(name, row["generation"]))
                    )
                )
                cursor.execute(
                    "DELETE FROM rm_state WHERE name = %s AND generation = %s",
                    (name, row["generation"]),
                )


class ProjectionRunner:
    """Runs a :class:`Projector` in a thread: woken by LISTEN, polling as a safety net."""

    def __init__(self, projector: Projector, conninfo: str, poll_interval: float = 1.0) -> None:
        self.projector = projector
        self.conninfo = conninfo
        self.poll_interval = poll_interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def start(self) -> None:
        stale = self.projector.prepare()
        self.projector.retry_stalled()
        if stale:
            threading.Thread(
                target=self._rebuild_quietly, args=(stale,), name="rebuild", daemon=True
            ).start()
        self._thread = threading.Thread(target=self.run, name="projections", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _rebuild_quietly(self, names: list[str]) -> None:
        while names:
            try:
                self.projector.rebuild_all(names)
            except RebuildInProgressError as error:
                logger.info("read model %s is being rebuilt elsewhere", error)
            except CannotApplyError as failure:
                # The others need their rebuild all the same.
                logger.error("rebuild failed: %s", failure)
                names = [name for name in names if name != failure.model]
                continue
            except Exception:
                logger.exception("rebuilding read models %s failed", ", ".join(names))
            return

    def run(self) -> None:
        """Catches up, then waits for a notification or the poll interval, until stopped.

        A failure (the database restarting, say) is logged and retried after a pause; the
        models' positions make the retry safe. A fault of an event or a model's code does not
        get here: it stalls the model (``Projector.catch_up``).
        """
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as listener:
                    listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(EVENTS_CHANNEL)))
                    while not self._stopping.is_set():
                        self.projector.catch_up()
                        # Wait for one notification (or the poll interval), then drain the rest.
                        for _ in listener.notifies(timeout=self.poll_interval, stop_after=1):
                            pass
                        self.error = None
            except Exception as error:  # keep running: the log is still there to read
                self.error = error
                logger.exception("projection runner failed; retrying")
                self._stopping.wait(min(5.0, self.poll_interval * 2))


def apply_page(
    cursor: psycopg.Cursor[dict[str, Any]],
    model: ReadModel,
    generation: int,
    position: int,
    page: LogPage,
    facts: Facts,
    current: CurrentRows | None = None,
) -> tuple[int, Batch]:
    """Applies the page's events after ``position`` to one generation, in the caller's
    transaction; the caller moves its tracking position to the page's end. Returns the new
    position, and the batch, whose ``committed()`` the caller calls once the transaction
    has committed. A rebuild loading the generation passes the rows it keeps in memory:
    its batches then look nothing up in advance."""
    batch = Batch(cursor, schema_name(model.name, generation), facts, current)
    if page.last <= position:
        return position, batch
    todo = [event for event in page.events if event.position > position]
    if current is None:
        model.prefetch(batch, todo)
    for event in todo:
        model.apply(batch, event)
    batch.flush()
    return page.last, batch


def one_line(error: BaseException) -> str:
    """What failed, for an operator: the error's kind and the first line of its message, with
    no statement and no stack (a server error's primary message, without its context)."""
    diagnostic = getattr(error, "diag", None)
    message = (diagnostic.message_primary if diagnostic is not None else None) or str(error)
    lines = message.strip().splitlines()
    text = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return text if len(text) <= 300 else f"{text[:299]}…"


def events_of(page: CheckedPage) -> list[Recorded]:
    """The events of a page that were read (all of them, where the model applies them all)."""
    return [item for item in page.items if isinstance(item, Recorded)]


def apply_events(
    cursor: psycopg.Cursor[dict[str, Any]],
    model: ReadModel,
    generation: int,
    events: Sequence[Recorded],
    facts: Facts,
) -> Batch:
    """Applies events, all after the generation's position, to it in the caller's transaction;
    returns the batch, whose ``committed()`` the caller calls once that has committed."""
    batch = Batch(cursor, schema_name(model.name, generation), facts)
    model.prefetch(batch, events)
    for event in events:
        model.apply(batch, event)
    batch.flush()
    return batch


def _fails(
    cursor: psycopg.Cursor[dict[str, Any]],
    model: ReadModel,
    generation: int,
    events: Sequence[Recorded],
    facts: Facts,
) -> Exception | None:
    """The fault applying the events raises, if any: tried in a savepoint that is rolled back
    whatever happens. A transient error is raised: it says nothing of the events."""
    try:
        with cursor.connection.transaction(force_rollback=True):
            apply_events(cursor, model, generation, events, facts)
    except TRANSIENT_ERRORS:
        raise
    except Exception as error:
        return error
    return None


@dataclass(frozen=True)
class Failure:
    """The first of some events that a model cannot apply, why, and the events before it,
    which it can."""

    before: list[Recorded]
    event: Recorded | Unreadable
    error: Exception

    def reported(
        self, cursor: psycopg.Cursor[dict[str, Any]], model: ReadModel
    ) -> CannotApplyError:
        """The failure as it is reported: the model, the event's position and topic, and the
        error in one line."""
        if isinstance(self.event, Unreadable):
            topic = self.event.topic
        else:
            row = cursor.execute(TOPIC_AT, (self.event.position,)).fetchone()
            topic = "?" if row is None else row["topic"]
        return CannotApplyError(model.name, self.event.position, topic, one_line(self.error))


def first_failure(
    cursor: psycopg.Cursor[dict[str, Any]],
    model: ReadModel,
    generation: int,
    items: Sequence[Recorded | Unreadable],
    facts: Facts,
) -> Failure | None:
    """The first of ``items`` (the log after the generation's position, as the model sees it)
    the model cannot apply; None when it applies them all.

    Applying a beginning of the log fails once it holds the first such event, whatever follows
    it; so halving the beginning that fails finds that event in about log2(n) tries, each in a
    savepoint rolled back. An unreadable event is where the model stops, unless it fails
    earlier."""
    unreadable = next(
        (index for index, item in enumerate(items) if isinstance(item, Unreadable)), len(items)
    )
    events = [item for item in items[:unreadable] if isinstance(item, Recorded)]
    error = _fails(cursor, model, generation, events, facts)
    if error is None:
        if unreadable == len(items):
            return None
        stop = items[unreadable]
        assert isinstance(stop, Unreadable)
        return Failure(events, stop, stop.error)
    good, bad = 0, len(events)  # events[:good] can be applied; events[:bad] cannot
    while bad - good > 1:
        middle = (good + bad) // 2
        failed = _fails(cursor, model, generation, events[:middle], facts)
        if failed is None:
            good = middle
        else:
            bad, error = middle, failed
    return Failure(events[: bad - 1], events[bad - 1], error)


def diagnose(
    store: ReadModelStore,
    log: LogReader,
    models: Sequence[ReadModel],
    generations: Mapping[str, int],
    after: int,
    until: int,
    facts: Facts,
) -> CannotApplyError | None:
    """Which model cannot apply which event of the log after position ``after`` up to
    ``until``, of generations (a rebuild's) that hold the log up to ``after``: the earliest
    such event, or None. Nothing is changed."""
    page = log.read_each(after, until=until)
    failures: list[CannotApplyError] = []
    with store.transaction() as cursor:
        for model in models:
            failure = first_failure(cursor, model, generations[model.name], page.of(model), facts)
            if failure is not None:
                failures.append(failure.reported(cursor, model))
    return min(failures, key=lambda failure: failure.position, default=None)


def load(
    store: ReadModelStore,
    log: LogReader,
    models: Sequence[ReadModel],
    generations: Mapping[str, int],
    until: int,
    size: int,
    rows_in_memory: int,
    facts: Facts,
) -> int:
    """Loads the log up to position ``until`` into new, empty generations of the models,
    ``size`` positions a transaction; returns the position loaded up to.

    A rebuild reads the log in large batches (nobody waits on its position), and reads the
    next batch while it applies one. Each generation's current rows are kept from batch to
    batch, so a batch reads none from the database but those it has forgotten. A batch that
    a model cannot apply raises :class:`CannotApplyError`, naming the model and the event.
    """
    position = 0
    current = {model.name: CurrentRows(rows_in_memory) for model in models}
    try:
        with _fewer_collections(), closing(_pages(log, until, size)) as pages:
            for page in pages:
                position = _load_page(store, models, generations, position, page, facts, current)
    except TRANSIENT_ERRORS:
        raise
    except Exception as error:
        # The generations hold the log up to ``position``: the fault is in the next span.
        failure = diagnose(
            store, log, models, generations, position, min(position + size, until), facts
        )
        if failure is None:
            raise
        raise failure from error
    return position


def _load_page(
    store: ReadModelStore,
    models: Sequence[ReadModel],
    generations: Mapping[str, int],
    position: int,
    page: LogPage,
    facts: Facts,
    current: Mapping[str, CurrentRows],
) -> int:
    """Loads one page of the log into the generations, in one transaction; returns the
    position they hold the log up to."""
    with store.transaction() as cursor:
        # A crash loses the generation being built whatever was committed (a
        # rebuild starts a new one), so its commits need not wait for the disk.
        cursor.execute("SET LOCAL synchronous_commit = off")
        batches = [
            apply_page(
                cursor,
                model,
                generations[model.name],
                position,
                page,
                facts,
                current[model.name],
            )
            for model in models
        ]
        cursor.execute(
            "UPDATE rm_state SET position = %s "
            "WHERE (name, generation) IN (SELECT * FROM unnest(%s::text[], %s::int[]))",
            (
                page.last,
                [model.name for model in models],
                [generations[model.name] for model in models],
            ),
        )
    for _, batch in batches:
        batch.committed()
    for rows in current.values():
        rows.forget_oldest()
    return page.last


def _pages(log: LogReader, until: int, size: int) -> Generator[LogPage, None, None]:
    """The log up to position ``until`` in pages of ``size`` positions, each read while the
    one before it is applied. Closed, it waits for the page it is reading."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rebuild-read") as reader:
        following = reader.submit(log.read_span, 0, min(size, until)) if until > 0 else None
        while following is not None:
            page = following.result()
            following = (
                reader.submit(log.read_span, page.last, min(page.last + size, until))
                if page.last < until
                else None
            )
            yield page


class RebuildLoadError(Exception):
    """The process loading some of a rebuild's models failed, or died."""


@dataclass(frozen=True)
class LoadApart:
    """What a process loading some of a rebuild's models needs: where, which models into which
    generations, up to which position, and the rebuild's batch size and memory of current
    rows."""

    conninfo: str
    transcodings: Mapping[str, Transcoding]
    models: Sequence[ReadModel]
    generations: Mapping[str, int]
    until: int
    size: int
    rows_in_memory: int


@contextmanager
def _loading_apart(job: LoadApart) -> Iterator[Callable[[], int]]:
    """Loads the log into new generations of the job's models in a process of its own, while
    the caller loads others; yields what waits for it and returns the position it loaded up to.

    Two processes load on two cores where one interpreter lock held them to one. The process
    is ended when the caller leaves early (a failure of its own), and ends itself if the
    caller's process dies; a failure in it, or its death, is raised here.
    """
    models = job.models
    if not models:
        yield lambda: 0
        return
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(
        target=_load_apart,
        args=(job, sending),
        name="diprec-rebuild-load",
        daemon=True,
    )
    process.start()
    sending.close()  # the process holds the only sending end: its death ends the pipe
    names = ", ".join(model.name for model in models)

    def loaded() -> int:
        try:
            outcome: int | str | CannotApplyError = receiving.recv()
        except EOFError:
            process.join()
            raise RebuildLoadError(
                f"the process loading {names} died (exit code {process.exitcode})"
            ) from None
        if isinstance(outcome, CannotApplyError):
            raise outcome
        if isinstance(outcome, str):
            raise RebuildLoadError(f"loading {names} failed:\n{outcome}")
        return outcome

    try:
        yield loaded
    finally:
        if process.is_alive():
            process.terminate()  # the caller failed: its rebuild is abandoned
        process.join()
        receiving.close()


def _load_apart(job: LoadApart, results: Connection) -> None:
    """The process of :func:`_loading_apart`: sends the position it loaded up to, the event
    one of its models cannot apply, or the traceback of another failure.

    It collects no cyclic garbage: loading makes none, and each collection would walk the
    hundreds of thousands of current rows it keeps (a tenth of its time at a million events).
    """
    gc.disable()
    threading.Thread(target=_exit_with_parent, name="parent-watch", daemon=True).start()
    store = ReadModelStore(job.conninfo, pool_size=2)
    outcome: int | str | CannotApplyError
    try:
        log = LogReader(store, job.transcodings, job.models)
        outcome = load(
            store,
            log,
            job.models,
            job.generations,
            job.until,
            job.size,
            job.rows_in_memory,
            Facts(),
        )
    except CannotApplyError as failure:
        outcome = failure
    except BaseException:
        outcome = traceback.format_exc()
    finally:
        store.close_pool()
    results.send(outcome)
    results.close()


def _exit_with_parent() -> None:
    """Ends this process when the one that started it has ended: a loading process outlives no
    rebuild (its transaction is rolled back with its connection)."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        wait([parent.sentinel])
        os._exit(1)
