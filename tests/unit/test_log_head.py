"""The log's head, read for many reads at once: a reading shared by the reads that arrived
before it started, never by one that arrived after, bounded in time, its failure passed on.

The store here is a stand-in for the read-model store's ``max_position``: a log whose head
the test moves, and whose every reading waits until the test lets it answer, so which reads
share which reading is decided by the test, not by timing.
"""

from __future__ import annotations

import asyncio

import pytest

from api.waits import LogHead, LogHeadUnknownError


class HeldLog:
    """A log whose readings each wait for the test's leave to answer with the head."""

    def __init__(self) -> None:
        self.head = 0
        self.readings = 0
        self.failure: Exception | None = None
        self._started = asyncio.Semaphore(0)
        self._leave = asyncio.Semaphore(0)

    async def max_position(self) -> int:
        self.readings += 1
        head = self.head
        self._started.release()
        await asyncio.wait_for(self._leave.acquire(), 30)  # the test lets it answer
        if self.failure is not None:
            raise self.failure
        return head

    async def started(self) -> None:
        """Returns once a reading has begun (and read the head it will answer with)."""
        await asyncio.wait_for(self._started.acquire(), 30)

    def answer(self) -> None:
        """Lets one reading answer."""
        self._leave.release()


async def _settle() -> None:
    """Lets every task created so far run up to its first wait."""
    for _ in range(5):
        await asyncio.sleep(0)


def test_reads_arriving_during_a_reading_share_the_next_one_and_none_takes_an_earlier_answer() -> (
    None
):
    log = HeldLog()
    head = LogHead(log)

    async def scenario() -> tuple[int, list[int]]:
        log.head = 7
        first = asyncio.create_task(head.position(30))
        await log.started()
        # Acknowledged while the first reading runs: the reads that arrive now must see it.
        log.head = 8
        later = [asyncio.create_task(head.position(30)) for _ in range(50)]
        await _settle()
        log.answer()  # the first reading: 7
        await log.started()  # the next one begins, for all fifty
        log.answer()
        return await first, list(await asyncio.gather(*later))

    first, later = asyncio.run(scenario())

    assert first == 7
    assert later == [8] * 50
    assert log.readings == 2  # fifty-one reads, two queries
    assert head.readings == 2


def test_a_read_arriving_when_no_reading_runs_starts_one_so_it_sees_the_writes_before_it() -> None:
    log = HeldLog()
    head = LogHead(log)

    async def scenario() -> list[int]:
        seen = []
        for position in (3, 4, 9):
            log.head = position
            read = asyncio.create_task(head.position(30))
            await log.started()
            log.answer()
            seen.append(await read)
        return seen

    assert asyncio.run(scenario()) == [3, 4, 9]
    assert log.readings == 3


def test_a_read_waits_for_the_head_only_so_long_and_the_reading_goes_on_for_the_others() -> None:
    log = HeldLog()
    head = LogHead(log)

    async def scenario() -> tuple[LogHeadUnknownError, int]:
        log.head = 5
        patient = asyncio.create_task(head.position(30))
        await log.started()
        with pytest.raises(LogHeadUnknownError) as refused:
            await head.position(0.01)  # waits for the next reading, which cannot start yet
        log.answer()
        await log.started()  # the reading the impatient read was waiting for still runs
        log.answer()
        assert await patient == 5
        # Once it is over, nothing is left running: the next read starts a reading afresh.
        log.head = 6
        again = asyncio.create_task(head.position(30))
        await log.started()
        log.answer()
        return refused.value, await again

    refused, again = asyncio.run(scenario())

    assert "could not be read within 0.01 s" in str(refused)
    assert again == 6
    assert log.readings == 3


def test_a_failed_reading_fails_every_read_that_shared_it_and_the_next_one_reads_again() -> None:
    log = HeldLog()
    head = LogHead(log)

    async def scenario() -> tuple[list[BaseException | int], int]:
        log.failure = ConnectionError("the database went away")
        reads = [asyncio.create_task(head.position(30)) for _ in range(3)]
        await _settle()
        await log.started()
        log.answer()
        await log.started()  # the two that arrived during the first reading share a second
        log.answer()
        failed = list(await asyncio.gather(*reads, return_exceptions=True))
        log.failure = None
        log.head = 12
        again = asyncio.create_task(head.position(30))
        await log.started()
        log.answer()
        return failed, await again

    failed, again = asyncio.run(scenario())

    assert [type(outcome) for outcome in failed] == [ConnectionError] * 3
    assert again == 12
    assert log.readings == 3
