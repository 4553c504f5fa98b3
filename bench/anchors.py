"""Anchors: what this machine and this PostgreSQL can do without diprec, measured in the same run.

Every anchor writes rows shaped like the event store's ``diprec_events`` (originator_id uuid,
originator_version bigint, topic text, state bytea of ~300 bytes, notification_id bigserial
unique; primary key (originator_id, originator_version)), into scratch tables named
``bench_*_<pid>`` that it creates fresh and drops afterwards, in the database named by
``conninfo``:

- ``pgbench_insert``: the physical limit, one row per transaction, optionally under the
  library's ``LOCK TABLE … IN EXCLUSIVE MODE`` write serialisation;
- ``copy_rows``: ``COPY`` of the same rows from Python, the limit for bulk loads;
- ``library_save``: the ``eventsourcing`` library's own ``Application.save()`` of one new
  aggregate (one event) per call;
- ``library_replay_decode``: the library's mapper turning stored events back into domain
  events.

    python -m bench.anchors --seconds 3
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from os import getpid
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Notification

from api.database import library_env
from bench.machine import Machine, default_conninfo, describe

STATE_BYTES = 300
"""Size of the ``state`` column of every anchor row (the events' JSON is of that order)."""
TOPIC = "bench.anchors:BenchRecord.Created"
# The library's own storage parameters for its events table (eventsourcing.postgres).
STORAGE = (
    "WITH (autovacuum_enabled = true, autovacuum_vacuum_threshold = 100000000, "
    "autovacuum_vacuum_scale_factor = 0.5, autovacuum_analyze_threshold = 1000, "
    "autovacuum_analyze_scale_factor = 0.01)"
)
_SCRATCH_NAME = re.compile(r"^bench_[a-z0-9_]+$")


@dataclass(frozen=True, slots=True)
class Rate:
    """One anchor's result: ``count`` things done in ``seconds``, i.e. ``per_second``."""

    label: str
    count: int
    seconds: float
    per_second: float
    unit: str
    note: str = ""

    def line(self) -> str:
        """The rate as one line of a report."""
        note = f"  ({self.note})" if self.note else ""
        return f"{self.label:<34} {self.per_second:>10,.0f} {self.unit}{note}"


@dataclass(frozen=True, slots=True)
class Anchors:
    """Every anchor of BENCHMARKS.md measured once, with the machine they were measured on."""

    machine: Machine
    pgbench: tuple[Rate, ...]
    """pgbench single-row inserts: plain then locked, for each client count."""
    copy: Rate
    save: tuple[Rate, ...]
    """Library ``save()`` of one event per call, for each thread count."""
    decode: Rate | None

    def rates(self) -> tuple[Rate, ...]:
        """All measured rates, in report order."""
        decode = (self.decode,) if self.decode is not None else ()
        return (*self.pgbench, self.copy, *self.save, *decode)

    def report(self) -> str:
        """The machine and every rate, one per line."""
        return "\n".join([self.machine.summary(), *(rate.line() for rate in self.rates())])


def _check_scratch(table: str) -> str:
    if not _SCRATCH_NAME.match(table) or len(table) > 50:
        msg = f"not a scratch table name: {table!r}"
        raise ValueError(msg)
    return table


def _scratch(kind: str) -> str:
    return _check_scratch(f"bench_{kind}_{getpid()}")


def _events_table_ddl(table: str) -> list[str]:
    return [
        f"DROP TABLE IF EXISTS {table}",
        f"CREATE TABLE {table} ("
        "originator_id uuid NOT NULL, originator_version bigint NOT NULL, topic text, "
        "state bytea, notification_id bigserial, "
        f"PRIMARY KEY (originator_id, originator_version)) {STORAGE}",
        f"CREATE UNIQUE INDEX {table}_notification_id_idx ON {table} (notification_id ASC)",
    ]


@contextmanager
def _events_table(conninfo: str, table: str) -> Iterator[str]:
    """A fresh table shaped like the event store's, dropped on exit."""
    _check_scratch(table)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        for statement in _events_table_ddl(table):
            connection.execute(statement)
    try:
        yield table
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f"DROP TABLE IF EXISTS {table}")


def _pgbench_script(table: str, *, locked: bool) -> str:
    # pgbench reads ":name" as a variable, so the topic's colon is spelled chr(58).
    module, _, name = TOPIC.partition(":")
    insert = (
        f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
        f"VALUES (gen_random_uuid(), 1, '{module}' || chr(58) || '{name}', "
        f"decode(repeat('ab', {STATE_BYTES}), 'hex'));"
    )
    if not locked:
        return insert + "\n"
    return f"BEGIN;\nLOCK TABLE {table} IN EXCLUSIVE MODE;\n{insert}\nCOMMIT;\n"


def _number(pattern: str, text: str) -> float | None:
    found = re.search(pattern, text)
    return float(found.group(1)) if found else None


def pgbench_insert(
    conninfo: str, clients: int, seconds: float, locked: bool, *, protocol: str = "prepared"
) -> Rate:
    """Single-row insert transactions per second that pgbench gets from PostgreSQL.

    Each transaction inserts one ~300-byte event row (new uuid, version 1) into a fresh table
    shaped like the events table; with ``locked`` it is ``BEGIN; LOCK TABLE … IN EXCLUSIVE
    MODE; INSERT; COMMIT`` as the library writes. Runs ``pgbench -n -T seconds -c clients
    -j min(clients, 2) -M protocol``; the rate is pgbench's tps without connection time.
    """
    if shutil.which("pgbench") is None:
        msg = "pgbench is not on PATH"
        raise RuntimeError(msg)
    duration = max(1, round(seconds))
    mode = "locked" if locked else "plain"
    with (
        _events_table(conninfo, _scratch(f"pgbench_{mode}_{clients}")) as table,
        tempfile.TemporaryDirectory(prefix="bench_pgbench_") as directory,
    ):
        script = Path(directory) / "insert.sql"
        script.write_text(_pgbench_script(table, locked=locked))
        command = [
            "pgbench",
            "-n",
            "-M",
            protocol,
            "-T",
            str(duration),
            "-c",
            str(clients),
            "-j",
            str(min(clients, 2)),
            "-f",
            str(script),
            conninfo,
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    tps = _number(r"tps = ([\d.]+) \(without initial connection time\)", output)
    if done.returncode != 0 or tps is None:
        msg = f"pgbench failed ({done.returncode}): {output.strip()[-800:]}"
        raise RuntimeError(msg)
    processed = _number(r"number of transactions actually processed: (\d+)", output) or 0
    failed = _number(r"number of failed transactions: (\d+)", output) or 0
    latency = _number(r"latency average = ([\d.]+) ms", output)
    note = f"latency avg {latency:.2f} ms" if latency is not None else ""
    if failed:
        note += f", {failed:.0f} failed"
    return Rate(
        label=f"pgbench insert {mode}, {clients} client{'s' if clients > 1 else ''}",
        count=int(processed),
        seconds=float(duration),
        per_second=tps,
        unit="tx/s",
        note=note,
    )


def copy_rows(conninfo: str, rows: int) -> Rate:
    """Rows per second that ``COPY … FROM STDIN`` (binary, psycopg ``cursor.copy``) stores.

    The rows (new uuid, version 1, topic, 300-byte state) are built before the clock starts;
    the time covers the COPY into a fresh events-shaped table and its commit.
    """
    state = bytes.fromhex("ab" * STATE_BYTES)
    data = [(uuid4(), 1, TOPIC, state) for _ in range(rows)]
    with (
        _events_table(conninfo, _scratch("copy")) as table,
        psycopg.connect(conninfo) as connection,
    ):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            statement = (
                f"COPY {table} (originator_id, originator_version, topic, state) "
                "FROM STDIN (FORMAT BINARY)"
            )
            with cursor.copy(statement) as copy:
                copy.set_types(["uuid", "int8", "text", "bytea"])
                for row in data:
                    copy.write_row(row)
        connection.commit()
        elapsed = time.perf_counter() - started
    return Rate(
        label="COPY from Python (binary)",
        count=rows,
        seconds=elapsed,
        per_second=rows / elapsed,
        unit="rows/s",
        note=f"{rows:,} rows",
    )


class BenchRecord(Aggregate):
    """A scratch aggregate whose one event, its creation, stores about 300 bytes of state."""

    payload: str

    def __init__(self, payload: str) -> None:
        self.payload = payload


# Brings a BenchRecord's stored state (JSON of its Created event) to about STATE_BYTES.
PAYLOAD = "x" * 150


class BenchLibrary(Application[UUID]):
    """A scratch application of the library, storing its events in ``<name>_events``."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name = name
        super().__init__(env)


# Creating a library table also creates (or replaces) these, shared by every application in
# the schema; they are put back as they were afterwards.
_SHARED_TYPE = "stored_event_uuid"
_SHARED_FUNCTION = "es_insert_events_uuid"


@contextmanager
def _library(conninfo: str, kind: str, pool_size: int) -> Iterator[BenchLibrary]:
    """A scratch application on a fresh table, dropped on exit with anything else it made."""
    name = _scratch(f"library_{kind}")
    table = f"{name}_events"
    with psycopg.connect(conninfo, autocommit=True) as connection:
        had_type = connection.execute(
            "SELECT 1 FROM pg_type WHERE typname = %s AND typnamespace = 'public'::regnamespace",
            (_SHARED_TYPE,),
        ).fetchone()
        function = connection.execute(
            "SELECT pg_get_functiondef(p.oid) FROM pg_proc p WHERE p.proname = %s AND "
            "p.pronamespace = 'public'::regnamespace",
            (_SHARED_FUNCTION,),
        ).fetchone()
        connection.execute(f"DROP TABLE IF EXISTS {table}")
    env = library_env(conninfo, pool_size=pool_size, connect_timeout=10, create_table=True)
    app = BenchLibrary(name, env)
    try:
        yield app
    finally:
        app.close()
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f"DROP TABLE IF EXISTS {table}")
            if function is not None:
                connection.execute(function[0])
            else:
                connection.execute(f"DROP FUNCTION IF EXISTS {_SHARED_FUNCTION}")
            if had_type is None:
                connection.execute(f"DROP TYPE IF EXISTS {_SHARED_TYPE}")


def library_save(conninfo: str, threads: int, seconds: float) -> Rate:
    """Events per second stored by the library's ``Application.save()``, one new aggregate
    (one ~300-byte event) per call, from ``threads`` threads sharing one application with a
    pool of as many connections; each thread saves once untimed first."""
    with _library(conninfo, f"save_{threads}", threads) as app:
        counts = [0] * threads
        finished = [0.0] * threads
        clock: dict[str, float] = {}

        def start() -> None:
            clock["start"] = time.perf_counter()
            clock["deadline"] = clock["start"] + seconds

        barrier = threading.Barrier(threads, action=start)

        def work(index: int) -> None:
            app.save(BenchRecord(PAYLOAD))
            barrier.wait()
            deadline = clock["deadline"]
            done = 0
            while time.perf_counter() < deadline:
                app.save(BenchRecord(PAYLOAD))
                done += 1
            counts[index] = done
            finished[index] = time.perf_counter()

        workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = max(finished) - clock["start"]
        size = app.recorder.select_notifications(start=1, limit=1)
        state = len(size[0].state) if size else 0
    total = sum(counts)
    return Rate(
        label=f"library save(), {threads} thread{'s' if threads > 1 else ''}",
        count=total,
        seconds=elapsed,
        per_second=total / elapsed,
        unit="events/s",
        note=f"state {state} bytes",
    )


def library_replay_decode(conninfo: str, events: int) -> Rate:
    """Events per second the library's mapper decodes (``mapper.to_domain_event``) from
    stored notifications; the events are saved and selected (1,000 a page) before the clock
    starts, and the note gives the selecting rate too."""
    with _library(conninfo, "decode", 2) as app:
        batch = 1000
        for first in range(0, events, batch):
            app.save(*(BenchRecord(PAYLOAD) for _ in range(min(batch, events - first))))
        started = time.perf_counter()
        notifications: list[Notification] = []
        position = 1
        while True:
            page = app.recorder.select_notifications(start=position, limit=batch)
            if not page:
                break
            notifications.extend(page)
            position = page[-1].id + 1
        selected = time.perf_counter() - started
        started = time.perf_counter()
        decoded: list[Any] = [app.mapper.to_domain_event(each) for each in notifications]
        elapsed = time.perf_counter() - started
    count = len(decoded)
    return Rate(
        label="library replay decode (mapper)",
        count=count,
        seconds=elapsed,
        per_second=count / elapsed if elapsed else 0.0,
        unit="events/s",
        note=f"{count:,} events; selecting them ran at {count / selected:,.0f}/s",
    )


def measure_anchors(
    conninfo: str,
    seconds: float,
    copy_rows_count: int,
    *,
    clients: tuple[int, ...] = (1, 16),
    threads: tuple[int, ...] = (1, 4),
    decode_events: int = 20_000,
) -> Anchors:
    """Measures every anchor once, one after another: pgbench plain and locked for each
    client count, COPY of ``copy_rows_count`` rows, library ``save()`` for each thread count,
    and (unless ``decode_events`` is 0) the library's replay decoding."""
    machine = describe(conninfo)
    pgbench = tuple(
        pgbench_insert(conninfo, count, seconds, locked)
        for locked in (False, True)
        for count in clients
    )
    copy = copy_rows(conninfo, copy_rows_count)
    save = tuple(library_save(conninfo, count, seconds) for count in threads)
    decode = library_replay_decode(conninfo, decode_events) if decode_events > 0 else None
    return Anchors(machine=machine, pgbench=pgbench, copy=copy, save=save, decode=decode)


def main(argv: list[str] | None = None) -> None:
    """Measures the anchors and prints them."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.anchors",
        description="Measure the anchors of BENCHMARKS.md (pgbench, COPY, library save and "
        "decode) on this machine, and print them. Creates and drops bench_* tables only.",
    )
    parser.add_argument("--conninfo", default=default_conninfo(), help="PostgreSQL to use.")
    parser.add_argument("--seconds", type=float, default=10, help="Per timed anchor.")
    parser.add_argument("--copy-rows", type=int, default=200_000, help="Rows to COPY.")
    parser.add_argument(
        "--decode-events", type=int, default=20_000, help="Events to decode; 0 skips it."
    )
    args = parser.parse_args(argv)
    anchors = measure_anchors(
        args.conninfo, args.seconds, args.copy_rows, decode_events=args.decode_events
    )
    print(anchors.report())


if __name__ == "__main__":
    main()
