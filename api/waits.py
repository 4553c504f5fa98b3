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

The log's last position is read for many reads at once: one query at a time, shared by the
reads that arrived before it started (``LogHead``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Protocol

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
    def max_position(self) -> int: ...


class LogHead:
    """The log's last position, as read after a moment: what a read must include to answer
    after every write acknowledged before it arrived.

    One reading of the position at a time: a read arriving while none is running starts one;
    a read arriving while one runs (which began before it arrived, so may miss writes it must
    see) waits for the next, which starts when the running one ends and is shared by every
    read that arrived meanwhile. Under load, then, one query answers many reads, and each
    read waits at most about two queries' time. The queries run in one thread of their own,
    while any read waits, not in a thread per read.
    """

    def __init__(self, store: HasLogHead) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._running: Future[int] | None = None  # the reading under way
        self._next: Future[int] | None = None  # the one to start after it, for later reads
        self.readings = 0  # how many times the position was read

    async def position(self, timeout: float) -> int:
        """The log's last position as read after this call began; raises
        :class:`LogHeadUnknownError` after ``timeout`` seconds, and what reading it raised
        (the database unreachable, say) if it failed."""
        with self._lock:
            if self._running is None:
                reading = self._running = Future()
                threading.Thread(target=self._read, name="diprec-log-head", daemon=True).start()
            else:
                if self._next is None:
                    self._next = Future()
                reading = self._next
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[int] = loop.create_future()
        reading.add_done_callback(lambda done: _pass_on(loop, done, answer))
        try:
            return await asyncio.wait_for(answer, timeout)
        except TimeoutError:
            raise LogHeadUnknownError(timeout) from None

    def _read(self) -> None:
        """Reads the position for the reading under way, then for the next, until no read
        waits for one."""
        while True:
            with self._lock:
                reading = self._running
            assert reading is not None
            try:
                position = self.store.max_position()
            except BaseException as error:  # each read waiting for it fails with it
                reading.set_exception(error)
            else:
                reading.set_result(position)
            with self._lock:
                self.readings += 1
                self._running, self._next = self._next, None
                if self._running is None:
                    return


def _pass_on(
    loop: asyncio.AbstractEventLoop, reading: Future[int], answer: asyncio.Future[int]
) -> None:
    def settle() -> None:
        if answer.done():  # timed out meanwhile
            return
        error = reading.exception()
        if error is not None:
            answer.set_exception(error)
        else:
            answer.set_result(reading.result())

    with suppress(RuntimeError):  # the loop has closed: no one waits any more
        loop.call_soon_threadsafe(settle)
