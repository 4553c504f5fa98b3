"""Group commit: the service's writes are recorded by one writer thread, many per transaction.

A request hands its command to the writer and waits, without holding a thread of its own.
The writer takes every command waiting (up to ``most``), records them together
(``Records.record_together``: one table lock and one commit for all of them, each command
answered as if it had run alone) and wakes each request with its own answer. Under load, the
writes that arrive while one transaction commits go in the next, so the transactions grow with
the load instead of queueing on the event store's table lock one fact at a time; a write on
its own is recorded at once, in a transaction of its own.

A request is answered only after the transaction holding its facts has committed, so a
``201`` is never lost, and a write the service dies before committing was never answered.

A request waits at most ``wait`` seconds for its answer (the write timeout), then is refused
with :class:`WriteTimeoutError` (``503``): its write may or may not be stored, and a retry with
the same ``Idempotency-Key`` records it once. A write given up on before the writer took it is
not run at all.
"""

from __future__ import annotations

import asyncio
import threading
from contextlib import suppress
from dataclasses import dataclass
from queue import Empty, SimpleQueue
from typing import Any

from domain.application import Command, Recorded, Records


class WriteTimeoutError(Exception):
    """A write was not answered in time; it may or may not have been stored."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"the write was not recorded within {seconds:g} s")


@dataclass(slots=True)
class _Waiting:
    command: Command
    loop: asyncio.AbstractEventLoop
    answer: asyncio.Future[Recorded[Any]]
    given_up: bool = False  # set by the request's loop; read by the writer before it runs


class GroupCommit:
    """The writer thread, started by the first write and stopped with the service."""

    def __init__(self, records: Records, *, most: int = 64, wait: float = 10.0) -> None:
        self.records = records
        self.most = most
        self.wait = wait
        self._queue: SimpleQueue[_Waiting | None] = SimpleQueue()
        self._lock = threading.Lock()
        self._writer: threading.Thread | None = None

    async def record(self, command: Command) -> Recorded[Any]:
        """What ``command`` answered once its facts are stored; raises what refused it."""
        loop = asyncio.get_running_loop()
        waiting = _Waiting(command, loop, loop.create_future())
        self._queue.put(waiting)
        self._ensure_writer()  # after the hand-over: one stopping now has already been told
        try:
            return await asyncio.wait_for(waiting.answer, self.wait)
        except TimeoutError:
            waiting.given_up = True
            raise WriteTimeoutError(self.wait) from None

    def stop(self) -> None:
        """Records every command already handed over, then stops the writer; a later write
        starts it again."""
        with self._lock:
            writer, self._writer = self._writer, None
            if writer is not None:
                self._queue.put(None)
                writer.join()

    def _ensure_writer(self) -> None:
        if self._writer is not None and self._writer.is_alive():
            return
        with self._lock:
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(
                    target=self._write, name="diprec-writer", daemon=True
                )
                self._writer.start()

    def _write(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            waiting = [first]
            stopping = False
            while len(waiting) < self.most:
                try:
                    more = self._queue.get_nowait()
                except Empty:
                    break
                if more is None:
                    stopping = True
                    break
                waiting.append(more)
            self._answer(waiting)
            if stopping:
                return

    def _answer(self, waiting: list[_Waiting]) -> None:
        waiting = [each for each in waiting if not each.given_up]
        if not waiting:
            return
        outcomes: list[Recorded[Any] | Exception]
        try:
            outcomes = self.records.record_together([each.command for each in waiting])
        except Exception as error:  # a fault of the writer itself: refuse all, keep writing
            outcomes = [error] * len(waiting)
        except BaseException as error:  # SystemExit, say: refuse all, and keep writing still
            refused = RuntimeError(f"the writer was interrupted ({type(error).__name__})")
            outcomes = [refused] * len(waiting)
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Any, Any]]] = {}
        for each, outcome in zip(waiting, outcomes, strict=True):
            by_loop.setdefault(each.loop, []).append((each.answer, outcome))
        for loop, answers in by_loop.items():
            with suppress(RuntimeError):  # a closed loop: nobody is waiting for these answers
                loop.call_soon_threadsafe(_settle, answers)


def _settle(answers: list[tuple[asyncio.Future[Recorded[Any]], Recorded[Any] | Exception]]) -> None:
    for answer, outcome in answers:
        if answer.done():  # the request gave up or was cancelled; its facts are stored all the same
            continue
        if isinstance(outcome, Exception):
            answer.set_exception(outcome)
        else:
            answer.set_result(outcome)
