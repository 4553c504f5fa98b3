"""Reads that wait for a log position without holding a thread each: by default the log's last
position once the read arrived (``LogHead``), so that it sees every write acknowledged before
it; or only the ``min_position`` it names.

A request waiting for the read models to reach a position awaits a future on the event loop.
One watcher thread, running only while requests wait, reads the models' positions whenever
the state table's watch says one has moved (a trigger announces every move; while the watch
is down it reads them every 20 ms) and settles every wait that is over. A wait that is over
already is settled at once, from positions known without asking the database. At most
``most`` reads wait at once: beyond them a read is refused at once with ``503`` — a bounded
queue, not a pile of threads: eighty waiting readers once held every worker thread, and
``/health`` took 9.6 s.

The log's last position is read for many reads at once: one query at a time, on the event
loop, shared by the reads that arrived before it started (``LogHead``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg

from projections.queries import (
    BeyondTheLogError,
    Progress,
    ReadModels,
    ReadModelsNotReadyError,
    ReadModelStalledError,
)

logger = logging.getLogger("diprec.api")

# While the watch is down, how often the watcher reads the positions.
UNWATCHED_POLL = 0.02
# While it is up, how long the watcher trusts it before reading the positions anyway.
WATCHED_POLL = 0.5


class TooManyWaitsError(Exception):
    """More reads wait for a position than the service lets wait at once."""

    def __init__(self, most: int) -> None:
        super().__init__(f"{most} reads are waiting for positions already; retry shortly")


@dataclass(eq=False)
class _Wait:
    position: int
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Progress]
    progress: Progress | None = field(default=None)


class PositionWaits:
    """The reads waiting for positions, and the thread that settles them."""

    def __init__(self, read_models: ReadModels, *, most: int = 1000) -> None:
        self.read_models = read_models
        self.most = most
        self._lock = threading.Lock()
        self._waits: list[_Wait] = []
        self._watcher: threading.Thread | None = None

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._waits)

    async def wait(self, position: int, timeout: float) -> None:
        """Returns once every read model that is not stalled includes ``position``; raises
        :class:`ReadModelsNotReadyError` after ``timeout`` seconds, :class:`BeyondTheLogError`
        for a position no write has answered with, and :class:`TooManyWaitsError` when too
        many reads wait already."""
        known = self.read_models.remembered_live()
        if known is not None:
            progress = Progress.of(known, position)
            if progress.over:
                self._settled(progress)
                return
        loop = asyncio.get_running_loop()
        wait = _Wait(position, loop, loop.create_future())
        with self._lock:
            if len(self._waits) >= self.most:
                raise TooManyWaitsError(self.most)
            self._waits.append(wait)
            if self._watcher is None:
                self._watcher = threading.Thread(
                    target=self._watch, name="diprec-position-waits", daemon=True
                )
                self._watcher.start()
        try:
            progress = await asyncio.wait_for(wait.future, timeout)
        except TimeoutError:
            reached = wait.progress.reached if wait.progress is not None else 0
            raise ReadModelsNotReadyError(position, reached) from None
        finally:
            with self._lock:
                if wait in self._waits:
                    self._waits.remove(wait)
        self._settled(progress)

    def _settled(self, progress: Progress) -> None:
        if progress.stalled is not None and not progress.note_stall():
            raise ReadModelStalledError(progress.position, progress.stalled)

    def _watch(self) -> None:
        """Settles the waits, until none is left."""
        watch = self.read_models.watch
        failing = False
        while True:
            with self._lock:
                waits = list(self._waits)
                if not waits:
                    self._watcher = None
                    return
            stamp = watch.stamp()
            try:
                self._settle(waits)
                failing = False
            except Exception as error:  # the database unreachable, say: the waits time out
                if not failing:
                    logger.warning("cannot read the read models' positions: %s", error)
                failing = True
            watch.wait_moved(stamp, WATCHED_POLL if stamp is not None else UNWATCHED_POLL)

    def _settle(self, waits: list[_Wait]) -> None:
        live = self.read_models.live()
        highest = max((generation.position for generation in live.values()), default=0)
        end: int | None = None
        for wait in waits:
            if wait.future.done():
                continue
            if wait.position > highest:
                # Past every model: perhaps past the log itself, which no wait would reach.
                end = self.read_models.store.max_position() if end is None else end
                if wait.position > end:
                    _settle(wait, BeyondTheLogError(wait.position, end))
                    continue
            wait.progress = Progress.of(live, wait.position)
            if wait.progress.over:
                _settle(wait, wait.progress)  # a stall is noted by the request itself


def _settle(wait: _Wait, outcome: Progress | Exception) -> None:
    def settle() -> None:
        if wait.future.done():  # timed out meanwhile
            return
        if isinstance(outcome, Exception):
            wait.future.set_exception(outcome)
        else:
            wait.future.set_result(outcome)

    wait.loop.call_soon_threadsafe(settle)


class LogHeadUnknownError(ReadModelsNotReadyError):
    """The log's head could not be read in the time a read may wait."""

    def __init__(self, seconds: float) -> None:
        super().__init__(0, 0)
        self.seconds = seconds

    def __str__(self) -> str:
        return f"the log's last position could not be read within {self.seconds:g} s"


class HasLogHead(Protocol):
    async def max_position(self) -> int: ...


class LogHead:
    """The log's last position, as read after a moment: what a read must include to answer
    after every write acknowledged before it arrived.

    One reading of the position at a time: a read arriving while none is running starts one;
    a read arriving while one runs (which began before it arrived, so may miss writes it must
    see) waits for the next, which starts when the running one ends and is shared by every
    read that arrived meanwhile. Under load, then, one query answers many reads, and each
    read waits at most about two queries' time. The readings run on the event loop, one
    after another in a task of their own while any read waits: no thread, no lock.
    """

    def __init__(self, store: HasLogHead) -> None:
        self.store = store
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running: asyncio.Future[int] | None = None  # the reading under way
        self._next: asyncio.Future[int] | None = None  # the one to start after it
        self._driver: asyncio.Task[None] | None = None
        self.readings = 0  # how many times the position was read

    async def position(self, timeout: float) -> int:
        """The log's last position as read after this call began; raises
        :class:`LogHeadUnknownError` after ``timeout`` seconds, and what reading it raised
        (the database unreachable, say) if it failed."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop (a service started again): begin afresh
            self._loop, self._running, self._next, self._driver = loop, None, None, None
        if self._running is None:
            reading = self._running = loop.create_future()
            self._driver = loop.create_task(self._drive())
        else:
            if self._next is None:
                self._next = loop.create_future()
            reading = self._next
        try:
            return await asyncio.wait_for(asyncio.shield(reading), timeout)
        except TimeoutError:
            raise LogHeadUnknownError(timeout) from None

    async def _drive(self) -> None:
        """Reads the position for the reading under way, then for the next, until no read
        waits for one."""
        while (reading := self._running) is not None:
            try:
                position = await self.store.max_position()
            except Exception as error:  # each read waiting for it fails with it
                reading.set_exception(error)
                reading.exception()  # retrieved here: reads that timed out never will
            else:
                reading.set_result(position)
            self.readings += 1
            self._running, self._next = self._next, None


class LogHeadReader:
    """Reads the log's last position for :class:`LogHead` on the event loop, over one
    connection of its own in autocommit (one round trip a reading, no transaction), opened
    when first needed and again after a failure, each query bounded by ``timeout``."""

    QUERY = "SELECT coalesce(max(notification_id), 0) FROM diprec_events"

    def __init__(self, conninfo: str, timeout: float) -> None:
        self.conninfo = conninfo
        self.timeout = timeout
        self._connection: psycopg.AsyncConnection[tuple[Any, ...]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def max_position(self) -> int:
        loop = asyncio.get_running_loop()
        connection = self._connection
        if connection is None or connection.closed or loop is not self._loop:
            self._abandon()  # one opened on a loop that has ended (a service started again)
            connection = self._connection = await psycopg.AsyncConnection.connect(
                self.conninfo,
                autocommit=True,
                application_name="diprec-log-head",
                connect_timeout=max(1, round(self.timeout)),
                options=f"-c statement_timeout={max(1, round(self.timeout * 1000))}",
            )
            self._loop = loop
        try:
            cursor = await connection.execute(self.QUERY)
            row = await cursor.fetchone()
        except psycopg.Error:
            self._connection = None
            with suppress(psycopg.Error):
                await connection.close()
            raise
        assert row is not None
        return int(row[0])

    async def stop(self) -> None:
        """Closes the connection."""
        connection, self._connection = self._connection, None
        if connection is not None and self._loop is asyncio.get_running_loop():
            with suppress(psycopg.Error):
                await connection.close()
        elif connection is not None:
            self._connection = connection
            self._abandon()

    def _abandon(self) -> None:
        """Closes the connection without its loop (which may have ended): ends the session
        at once, so nothing is left open for the garbage collector to find."""
        connection, self._connection = self._connection, None
        if connection is not None and not connection.closed:
            connection.pgconn.finish()

    def __del__(self) -> None:
        self._abandon()  # an app dropped without its lifespan having ended (tests do)
