"""A rebuild of a realistic record: the events as the read models read them, and a rebuild in
large batches equal to the models kept up to date in small ones."""

from __future__ import annotations

import gc
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from api.database import Database
from api.demo import load_demo
from api.importer import import_log
from bench.generate import generate
from domain.application import Records
from projections.batch import CURRENT_ROWS_LIMIT, Batch
from projections.models import StatisticsModel
from projections.runner import CannotApplyError, LogReader, Projector, RebuildLoadError
from projections.store import ReadModelStore
from projections.values import Recorded, event_data
from tests.integration.test_read_models import dump, rebuild_all

EVENTS = 6000
NEVER = 10**12  # a rebuild of no log this long loads its models apart
# Every event a read model handles: the generated record holds each.
HANDLED = {
    "SourceRegistered",
    "SourceTextRegistered",
    "CommissionEstablished",
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
    "StatisticRetracted",
}


def indexes(store: ReadModelStore, schema: str) -> list[str]:
    """The definitions of a schema's indexes, the schema's name left out."""
    with store.transaction() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = %s", (schema,))
        return sorted(row["indexdef"].replace(f"{schema}.", "") for row in cursor.fetchall())


@pytest.fixture
def record(database: Database, pg_records: Records, tmp_path: Path) -> int:
    """A generated record of sessions, statistics, corrections, retractions, postponements and
    co-chair changes, imported into the test database, then the demo record written through
    the application (its amounts as written, ``4.4E9``); the log's last position."""
    log = tmp_path / "record.ndjson"
    generate(log, events=EVENTS, hot_commission_events=10)
    with log.open(encoding="utf-8") as lines:
        import_log(database, pg_records, lines)
    load_demo(pg_records)
    last = pg_records.recorder.max_notification_id()
    assert last is not None
    return last


def test_the_models_read_each_event_as_the_library_decodes_it(
    record: int, pg_records: Records, projector: Projector
) -> None:
    page = projector.read(0, 2 * EVENTS)
    assert page.last == record
    assert {event.name for event in page.events} == HANDLED
    read = {event.position: event for event in page.events}
    for notification in pg_records.recorder.select_notifications(start=1, limit=2 * EVENTS):
        decoded: Any = pg_records.mapper.to_domain_event(notification)
        name = pg_records.event_type(decoded)
        if name == "StatisticLocated":  # no model reads it: never decoded
            assert notification.id not in read
            continue
        event = read.pop(notification.id)
        assert event.name == name
        assert (event.stream, event.version) == (decoded.originator_id, decoded.originator_version)
        assert event.recorded_at == decoded.timestamp
        assert event.recorded_by == vars(decoded)["recorded_by"]
        assert event.data == event_data(decoded)
    assert not read


def test_a_span_of_the_log_holds_what_its_models_handle_and_ends_where_asked(
    record: int, projector: Projector
) -> None:
    statistics = projector.models["statistics"]
    everything = projector.read(0, 2 * EVENTS)
    reader = LogReader(projector.store, projector.transcodings, [statistics])
    spans = [reader.read_span(after, min(after + 500, record)) for after in range(0, record, 500)]

    assert [span.last for span in spans] == [*range(500, record, 500), record]
    assert [event for span in spans for event in span.events] == [
        event for event in everything.events if statistics.handles(event.name)
    ]
    # Once a span has met a topic the statistics do not handle, later ones leave it out.
    assert spans[-1].count == len(spans[-1].events)
    assert sum(span.count for span in spans) < everything.count


@pytest.mark.parametrize(
    ("rows_in_memory", "apart_from"),
    [(CURRENT_ROWS_LIMIT, NEVER), (50, NEVER), (CURRENT_ROWS_LIMIT, 0), (50, 0)],
    ids=["in-memory", "forgetting", "apart", "apart-forgetting"],
)
def test_a_rebuild_in_large_batches_equals_the_models_kept_up_to_date_in_small_ones(
    record: int, database: Database, pg_records: Records, rows_in_memory: int, apart_from: int
) -> None:
    # Small batches: sessions and statistics opened in one batch change in later ones, so
    # what a batch reads is found by its prefetch, across batch boundaries; a rebuild finds
    # them in the rows it keeps in memory, or, once it has forgotten them (50 rows kept of
    # thousands), reads them again. Apart: the statistics are loaded by a process of their
    # own.
    store = database.read_model_store()
    projector = Projector(
        pg_records,
        store,
        batch_size=37,
        rows_in_memory=rows_in_memory,
        apart_from=apart_from,
    )
    projector.prepare()
    try:
        projector.catch_up()
        assert {g.position for g in store.live().values()} == {record}
        incremental = dump(store)

        rebuild_all(projector)

        assert dump(store) == incremental
        for generation in store.live().values():
            first = f"rm_{generation.name}_g1"  # built before any event, kept as retired
            assert indexes(store, generation.schema) == indexes(store, first), generation.name
    finally:
        store.close_pool()


def test_a_generation_left_building_by_a_failed_rebuild_is_dropped_by_the_next(
    pg_records: Records, projector: Projector, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_demo(pg_records)
    projector.catch_up()
    history = projector.models["history"]

    def fail(*_: Any) -> None:
        raise RuntimeError("the rebuild dies here")

    monkeypatch.setattr(history, "apply", fail)
    # As a rebuild killed outright would, it leaves its generation behind.
    monkeypatch.setattr(projector, "_abandon", lambda _: None)
    with pytest.raises(CannotApplyError, match="the rebuild dies here"):
        projector.rebuild("history")
    monkeypatch.undo()
    assert [
        (g.generation, g.status) for g in projector.store.generations() if g.name == "history"
    ] == [
        (1, "live"),
        (2, "building"),
    ]

    assert projector.rebuild("history").generation == 3

    with projector.store.transaction() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rm_history_g%'")
        schemas = {row["nspname"] for row in cursor.fetchall()}
    assert "rm_history_g2" not in schemas
    assert {"rm_history_g1", "rm_history_g3"} <= schemas


def test_a_rebuild_hands_back_the_collector_thresholds_it_found(
    pg_records: Records, projector: Projector
) -> None:
    """A rebuild collects garbage rarely while it loads, then restores whatever thresholds
    were in force: the service's own (``diprec serve`` tunes them), not Python's defaults."""
    load_demo(pg_records)
    before = gc.get_threshold()
    try:
        gc.set_threshold(12_345, 6, 7)
        projector.rebuild_all(list(projector.models))
        assert gc.get_threshold() == (12_345, 6, 7)
    finally:
        gc.set_threshold(*before)


class StatisticsFailingOnACorrection(StatisticsModel):
    """The statistics, failing at the first correction (in the process loading them apart)."""

    def on_StatisticCorrected(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        raise RuntimeError("no correction today")


class StatisticsDyingOnACorrection(StatisticsModel):
    """The statistics, whose loading process is killed at the first correction."""

    def on_StatisticCorrected(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        os.kill(os.getpid(), signal.SIGKILL)


class StatisticsStuckOnACorrection(StatisticsModel):
    """The statistics, whose loading process stops for good at the first correction, once it
    has said so by creating the file named by ``DIPREC_TEST_STUCK``."""

    def on_StatisticCorrected(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        Path(os.environ["DIPREC_TEST_STUCK"]).touch()
        time.sleep(3600)


# A rebuilding process of its own, its statistics loaded apart by a process that gets stuck.
REBUILDING = """
import sys
from api.database import Database
from projections.runner import Projector
from tests.integration.test_rebuild import StatisticsStuckOnACorrection

database = Database(conninfo=sys.argv[1], description="test")
projector = Projector(database.open_records(), database.read_model_store(), apart_from=0)
projector.prepare()
projector.models["statistics"] = StatisticsStuckOnACorrection()
projector.rebuild_all(list(projector.models))
"""


def children(pid: int) -> list[int]:
    """The processes ``pid`` started by multiprocessing's spawn."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
        if parent == pid and b"spawn_main" in command:
            found.append(int(stat.parent.name))
    return found


def wait_until(condition: Callable[[], bool], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_the_process_apart_ends_when_the_rebuilding_process_dies(
    record: int, database: Database, tmp_path: Path
) -> None:
    stuck = tmp_path / "stuck"
    rebuilding = subprocess.Popen(
        [sys.executable, "-c", REBUILDING, database.conninfo],
        cwd=Path(__file__).parents[2],
        env={**os.environ, "DIPREC_TEST_STUCK": str(stuck)},
    )
    try:
        assert wait_until(stuck.exists), "the process apart never reached a correction"
        [apart] = children(rebuilding.pid)
        rebuilding.kill()
        rebuilding.wait()
        assert wait_until(lambda: not Path(f"/proc/{apart}").exists() or _zombie(apart))
    finally:
        rebuilding.kill()
        rebuilding.wait()


def _zombie(pid: int) -> bool:
    """Whether a process has ended, not yet reaped (its parent dead, init reaps it soon)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def rebuild_apart(
    database: Database, pg_records: Records, statistics: StatisticsModel
) -> Iterator[Projector]:
    """A projector kept up to date, whose rebuilds load ``statistics`` apart."""
    store = database.read_model_store()
    projector = Projector(pg_records, store, batch_size=500, apart_from=0)
    projector.prepare()
    try:
        projector.catch_up()
        projector.models["statistics"] = statistics
        yield projector
    finally:
        store.close_pool()


@pytest.mark.parametrize(
    ("statistics", "error", "failure"),
    [
        (StatisticsFailingOnACorrection(), CannotApplyError, "RuntimeError: no correction today"),
        (StatisticsDyingOnACorrection(), RebuildLoadError, f"died (exit code {-signal.SIGKILL})"),
    ],
    ids=["fails", "dies"],
)
def test_a_rebuild_whose_process_apart_fails_or_dies_fails_and_leaves_none_behind(
    record: int,
    database: Database,
    pg_records: Records,
    statistics: StatisticsModel,
    error: type[Exception],
    failure: str,
) -> None:
    for projector in rebuild_apart(database, pg_records, statistics):
        live = projector.store.live()
        with pytest.raises(error, match=re.escape(failure)):
            rebuild_all(projector)
        assert not multiprocessing.active_children()
        assert projector.store.live() == live  # nothing switched
        assert {g.status for g in projector.store.generations()} == {"live"}

        projector.models["statistics"] = StatisticsModel()
        rebuild_all(projector)
        assert {g.status for g in projector.store.generations()} == {"live", "retired"}


def test_a_rebuild_failing_in_its_own_process_ends_the_process_apart(
    record: int, database: Database, pg_records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    for projector in rebuild_apart(database, pg_records, StatisticsModel()):
        history = projector.models["history"]

        def fail(*_: Any) -> None:
            raise RuntimeError("the rebuild dies here")

        monkeypatch.setattr(history, "apply", fail)
        with pytest.raises(CannotApplyError, match="the rebuild dies here"):
            rebuild_all(projector)
        assert not multiprocessing.active_children()
