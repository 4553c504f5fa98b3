"""A projection worker killed outright mid-batch, and restarted, loses and repeats nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from uuid import uuid4

from api.database import Database
from api.demo import COMMISSION, SESSION, SOURCE, load_demo
from domain.application import Records, today
from domain.statistic_index import StatisticIndex
from domain.values import Evidence
from projections.runner import Projector
from tests.integration.cli import ROOT
from tests.integration.test_read_models import dump, rebuild_all


def record_many_statistics(records: Records, count: int, key: str = SESSION) -> None:
    """Appends ``count`` statistics to a session of the demo commission in one save: a long
    log, quickly."""
    session = records.session(COMMISSION, key)
    indexes = []
    for index in range(count):
        statistic_id = uuid4()
        session.report_statistic(
            statistic_id=statistic_id,
            parties=["AZ", "RU"],
            measure="exports",
            value_kind="level",
            value=str(index),
            unit="USD",
            qualifier="exact",
            reporter="AZ",
            partner="RU",
            period="2023",
            stated_by=None,
            remarks=None,
            evidence=[Evidence(SOURCE, "was held in Baku")],
            recorded_by="loader",
            recorded_on=today(),
        )
        indexes.append(StatisticIndex.locate(statistic_id, session, recorded_by="loader"))
    records.save(session, *indexes)


def start_worker(database_url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from api.cli import main; main()", "project"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "DIPREC_PROJECTION_BATCH_SIZE": "25",
            "DIPREC_PROJECTION_POLL_SECONDS": "0.1",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def positions(projector: Projector) -> set[int]:
    return {g.position for g in projector.store.live().values()}


def test_a_worker_killed_mid_batch_and_restarted_loses_and_repeats_nothing(
    database: Database, database_url: str, pg_records: Records, projector: Projector
) -> None:
    load_demo(pg_records)
    # A session holds at most 1,000 statistics: the demo session and the next share them.
    pg_records.record_convened_session(
        COMMISSION,
        ordinal=23,
        kind="plenary",
        format="in_person",
        start="2024",
        evidence=[Evidence(SOURCE, "was held in Baku")],
        recorded_by="loader",
    )
    record_many_statistics(pg_records, 750)
    record_many_statistics(pg_records, 750, key="23")
    last = pg_records.recorder.max_notification_id()
    assert last is not None

    worker = start_worker(database_url)
    deadline = time.monotonic() + 60
    while not any(0 < p < last for p in positions(projector)):
        assert worker.poll() is None, worker.communicate()
        assert time.monotonic() < deadline, "the worker made no progress"
        time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)
    worker.communicate(timeout=10)
    killed_at = positions(projector)
    assert min(killed_at) < last, "the worker finished before it could be killed"

    restarted = start_worker(database_url)
    try:
        deadline = time.monotonic() + 120
        while positions(projector) != {last}:
            assert restarted.poll() is None, restarted.communicate()
            assert time.monotonic() < deadline, f"stuck at {positions(projector)}"
            time.sleep(0.05)
    finally:
        restarted.send_signal(signal.SIGTERM)
        _, stderr = restarted.communicate(timeout=30)
    assert restarted.returncode == 0, stderr

    incremental = dump(projector.store)
    history = incremental["history.history"]
    facts = [
        n
        for n in pg_records.recorder.select_notifications(start=1, limit=10_000)
        if not n.topic.endswith("StatisticIndex.Located")
    ]
    assert sorted(row[0] for row in history) == [n.id for n in facts]
    rebuild_all(projector)
    assert dump(projector.store) == incremental
