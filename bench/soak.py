"""A soak of hostile and normal traffic: does the record hold up, and does the service stay
responsive?

    python -m bench.soak                      10 minutes of hostile traffic, after a quiet minute
    python -m bench.soak --minutes 1 --quiet-seconds 20

It serves the demo record (``diprec serve``, its projection worker included) on a scratch
database, then runs two phases with the same normal traffic — recorders writing statistics
with Idempotency-Keys, readers reading the timeline and the trade position at the position of
the last write, and a probe of ``/health`` at a fixed rate:

1. **quiet**: the normal traffic alone;
2. **hostile**: the normal traffic, and beside it what a security review threw at the
   service: anonymous bodies of a million brackets, connections that send half a request
   and stall (slowloris), bodies that stall before their end, recorder bodies of a million
   arrays, names given twice, values no column holds (``0E-16384``, ``0E-100000000``), NUL in
   paths and parameters, forged cursors, ``as_of`` beyond the calendar, floods of unknown
   keys, sources of a megabyte, and readers waiting on positions not yet written.

It then checks what it promises, and exits non-zero if any fails: every write answered
``201`` is in the record, exactly once; every read model is current; no request was answered
``500``; every hostile request was refused as it should be; and ``/health``'s p99 under
hostile traffic is within 2× of the quiet phase's.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from api.database import Database
from api.demo import COMMISSION, SESSION, SOURCE, load_demo
from api.security import ApiKeys
from bench.load import JSON_HEADERS, CpuMeter, LoadResult, Reply, Request, run_load
from bench.machine import default_conninfo
from bench.peer import free_port
from bench.run import _url, scratch_database, wait_until_caught_up
from domain.application import Records
from domain.values import Evidence

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = "diprec_soak"
STATISTICS = f"/commissions/{COMMISSION}/sessions/{SESSION}/statistics"
# The normal writers record at sessions of a commission of their own, so that what the readers
# read (the demo commission's timeline, the AZ–RU trade position) costs the same throughout.
WRITTEN = "soak-az-kz"
WRITTEN_SESSIONS = 50  # a session holds at most 1,000 statistics
WRITTEN_STATISTICS = f"/commissions/{WRITTEN}/sessions/1/statistics"
HEALTH_RATE = 20.0  # probes of /health per second
WRITE_RATE = 40.0  # normal writes per second
READ_RATE = 60.0  # normal reads per second
# Readers released together by one write's position: a burst the one event loop answers in
# turn (a hundred at once cost /health's p99 some 50 ms on two cores).
WAITING_READERS = 20
HEALTH_GOAL = 2.0  # /health p99 under hostile traffic, at most this many times the quiet one's


def statistic(index: int) -> dict[str, Any]:
    return {
        "measure": "exports",
        "value_kind": "level",
        "value": str(1000 + index),
        "unit": "USD",
        "qualifier": "approximately",
        "reporter": "AZ",
        "partner": "KZ",
        "period": "2023",
        "remarks": f"soak write {index}",
        "evidence": [{"source": SOURCE, "quote": "was held in Baku"}],
    }


@dataclass
class Served:
    base: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def served(database: Database, log: Path) -> Iterator[Served]:
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from api.cli import main; main()",
                "serve",
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "DATABASE_URL": _url(database.conninfo),
                "DIPREC_LOG_LEVEL": "warning",
                "DIPREC_REQUEST_TIMEOUT_SECONDS": "5",
            },
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while (
            run_load(base, lambda _: Request("GET", "/health"), 1, 1, max_requests=1).statuses.get(
                200
            )
            is None
        ):
            if process.poll() is not None or time.monotonic() > deadline:
                msg = f"the service did not start; see {log}"
                raise RuntimeError(msg)
            time.sleep(0.2)
        yield Served(base, port, process, log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


# --- normal traffic ------------------------------------------------------------------------


@dataclass
class Normal:
    """What the normal traffic of a phase did."""

    health: LoadResult
    writes: LoadResult
    reads: LoadResult
    acknowledged: set[str]


class LastPosition:
    """The position of the latest acknowledged write, for readers to ask for; shared with
    the hostile traffic's process."""

    def __init__(self) -> None:
        self.shared = multiprocessing.get_context("spawn").Value("q", 0)

    @property
    def value(self) -> int:
        return int(self.shared.value)

    def saw(self, reply: Reply) -> None:
        if reply.status == 201:
            position = int(json.loads(reply.body)["position"])
            with self.shared.get_lock():
                self.shared.value = max(self.shared.value, position)


def normal_traffic(base: str, key: str, seconds: float, first: int, last: LastPosition) -> Normal:
    auth = {"Authorization": f"Bearer {key}"}
    write_headers = {**JSON_HEADERS, **auth}

    def write(index: int) -> Request:
        n = first + index
        return Request(
            "POST",
            f"/commissions/{WRITTEN}/sessions/{n % WRITTEN_SESSIONS + 1}/statistics",
            json.dumps(statistic(n)).encode(),
            {**write_headers, "Idempotency-Key": f"soak-{n}"},
        )

    reads = [f"/commissions/{COMMISSION}/timeline", "/trade-position?parties=AZ,RU"]

    def read(index: int) -> Request:
        position = last.value
        query = f"&min_position={position}" if position else ""
        path = reads[index % len(reads)]
        return Request("GET", path + ("&" if "?" in path else "?") + query.lstrip("&"), None, auth)

    results: dict[str, LoadResult] = {}

    def run(name: str, load: Callable[[], LoadResult]) -> threading.Thread:
        thread = threading.Thread(target=lambda: results.__setitem__(name, load()), name=name)
        thread.start()
        return thread

    threads = [
        run(
            "health",
            lambda: run_load(base, lambda _: Request("GET", "/health"), 2, seconds, HEALTH_RATE),
        ),
        run(
            "writes",
            lambda: run_load(
                base, write, 4, seconds, WRITE_RATE, keep_bodies=True, on_reply=last.saw
            ),
        ),
        run("reads", lambda: run_load(base, read, 4, seconds, READ_RATE)),
    ]
    for thread in threads:
        thread.join()
    acknowledged = {
        json.loads(reply.body)["id"] for reply in results["writes"].bodies if reply.status == 201
    }
    return Normal(results["health"], results["writes"], results["reads"], acknowledged)


# --- hostile traffic -------------------------------------------------------------------------


@dataclass
class Hostile:
    """What each kind of hostile request was answered, and what it should have been."""

    answers: dict[str, Counter[int]] = field(default_factory=dict)
    expected: dict[str, set[int]] = field(default_factory=dict)
    sources: set[str] = field(default_factory=set)  # sources acknowledged
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, kind: str, status: int) -> None:
        with self.lock:
            self.answers.setdefault(kind, Counter())[status] += 1

    def unexpected(self) -> dict[str, dict[int, int]]:
        return {
            kind: {s: n for s, n in counts.items() if s not in self.expected[kind]}
            for kind, counts in self.answers.items()
            if set(counts) - self.expected[kind]
        }


def _request(
    port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return 0, b""  # refused before the body was all sent, or the connection dropped
    finally:
        connection.close()


def _cursor(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def hostile_traffic(
    port: int, key: str, seconds: float, log: Hostile, last: LastPosition, only: set[str]
) -> None:
    """Runs every kind of hostile client at once for ``seconds``."""
    stop = time.monotonic() + seconds
    auth = {"Authorization": f"Bearer {key}"}
    json_auth = {**auth, "Content-Type": "application/json"}
    brackets = b"[" * 1_000_000 + b"]" * 1_000_000
    arrays = b"[" + b"[]," * 600_000 + b"[]]"
    text = ("The co-chairs noted the growth of trade turnover. " * 21_000)[:1_040_000]

    def every(
        kind: str, expected: set[int], pause: float, send: Callable[[int], int]
    ) -> Callable[[], None]:
        log.expected[kind] = expected

        def loop() -> None:
            n = 0
            while time.monotonic() < stop:
                log.note(kind, send(n))
                n += 1
                time.sleep(pause)

        return loop

    def anonymous_brackets(_: int) -> int:
        return _request(port, "POST", STATISTICS, brackets, dict(JSON_HEADERS))[0]

    def recorder_arrays(_: int) -> int:
        return _request(port, "POST", STATISTICS, arrays, json_auth)[0]

    def names_twice(_: int) -> int:
        body = json.dumps(statistic(0))[:-1] + ', "value": "9"}'
        return _request(port, "POST", WRITTEN_STATISTICS, body.encode(), json_auth)[0]

    poison = ["0E-16384", "0E-100000000", "1E-99999", "1E+99999", "9" * 5000]

    def unstorable_values(n: int) -> int:
        body = json.dumps({**statistic(0), "value": poison[n % len(poison)]}).encode()
        return _request(port, "POST", WRITTEN_STATISTICS, body, json_auth)[0]

    odd_paths = [
        "/commissions/%00",
        "/commissions?party=%00",
        "/declarations?title=%00",
        f"/commissions?cursor={_cursor([1])}",
        f"/commissions?cursor={_cursor('x' + chr(10) + 'INFO: forged 202 Accepted')}",
        "/trade-position?parties=AZ,RU&as_of=0001-01-01T00:00:00%2B14:00",
        f"/commissions/{COMMISSION}/timeline?min_position=99999999999",
    ]

    def odd_parameters(n: int) -> int:
        return _request(port, "GET", odd_paths[n % len(odd_paths)], None, auth)[0]

    def unknown_keys(_: int) -> int:
        forged = {"Authorization": f"Bearer dpr_{secrets.token_hex(6)}_{'x' * 43}"}
        return _request(port, "GET", f"/commissions/{COMMISSION}", None, forged)[0]

    def large_sources(n: int) -> int:
        body = {
            "id": f"soak-large-{n}-{secrets.token_hex(3)}",
            "title": "A long readout",
            "publisher": "Example ministry",
            "language": "en",
            "text": text,
        }
        status, _ = _request(port, "POST", "/sources", json.dumps(body).encode(), json_auth)
        if status == 201:
            with log.lock:
                log.sources.add(body["id"])
        return status

    def stalled_body(_: int) -> int:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
            connection.sendall(
                b"POST /sources HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\n"
                b"Authorization: Bearer "
                + key.encode()
                + b"\r\nContent-Length: 2000000\r\n\r\n"
                + b'{"id": "'
                + b"x" * 1_900_000
            )
            answer = connection.recv(12)
        return int(answer[9:12]) if answer.startswith(b"HTTP/1.1 ") else 0

    def slowloris() -> None:
        log.expected["slowloris"] = {0}
        held: list[socket.socket] = []
        while time.monotonic() < stop:
            for connection in list(held):
                connection.settimeout(0.001)
                try:
                    if connection.recv(1) == b"":
                        raise ConnectionResetError
                except TimeoutError:
                    continue
                except OSError:
                    held.remove(connection)
                    connection.close()
                    log.note("slowloris", 0)  # dropped by the server, as it should be
            while len(held) < 50:
                with suppress(OSError):
                    connection = socket.create_connection(("127.0.0.1", port), timeout=5)
                    connection.sendall(b"GET /health HTTP/1.1\r\nHost: soak\r\n")
                    held.append(connection)
            time.sleep(0.5)
        for connection in held:
            connection.close()

    def waiting_readers() -> None:
        # Readers at once, each asking for a position just past the last write,
        # which the normal writers soon reach: they wait without holding the service's
        # threads, and are answered once it is reached (or 503 after the wait allowed).
        # 422 when no write followed before the end: a position beyond the log is refused.
        log.expected["waiting reads"] = {200, 422, 503}
        path = f"/commissions/{COMMISSION}/timeline?limit=1&min_position="

        def wait_for(position: int) -> None:
            log.note("waiting reads", _request(port, "GET", f"{path}{position}", None, auth)[0])

        while time.monotonic() < stop:
            burst = [
                threading.Thread(target=wait_for, args=(last.value + 1,))
                for _ in range(WAITING_READERS)
            ]
            for thread in burst:
                thread.start()
            for thread in burst:
                thread.join()
            time.sleep(2)

    loops = {
        "anonymous brackets": every("anonymous brackets", {0, 401}, 0.0, anonymous_brackets),
        "anonymous brackets 2": every("anonymous brackets 2", {0, 401}, 0.0, anonymous_brackets),
        "recorder arrays": every("recorder arrays", {400}, 0.2, recorder_arrays),
        "names twice": every("names twice", {422}, 0.1, names_twice),
        "unstorable values": every("unstorable values", {422}, 0.05, unstorable_values),
        "odd parameters": every("odd parameters", {404, 422}, 0.02, odd_parameters),
        "unknown keys": every("unknown keys", {401}, 0.02, unknown_keys),
        "large sources": every("large sources", {201}, 5.0, large_sources),
        "stalled bodies": every("stalled bodies", {408}, 0.5, stalled_body),
        "slowloris": slowloris,
        "waiting reads": waiting_readers,
    }
    chosen = [loop for name, loop in loops.items() if not only or name in only]
    threads = [threading.Thread(target=loop, daemon=True) for loop in chosen]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)


def _hostile_apart(
    port: int, key: str, seconds: float, shared: Any, results: Any, only: set[str]
) -> None:
    """The hostile traffic in a process of its own, so that its clients' work does not slow
    the normal traffic's probes (one interpreter lock) and only the service's answers do."""
    last = LastPosition.__new__(LastPosition)
    last.shared = shared
    log = Hostile()
    started = time.process_time()
    hostile_traffic(port, key, seconds, log, last, only)
    results.send(
        (
            {kind: dict(counts) for kind, counts in log.answers.items()},
            log.expected,
            sorted(log.sources),
            time.process_time() - started,
        )
    )


# --- the run ---------------------------------------------------------------------------------


def record_written_commission(records: Records) -> None:
    """The commission the normal writers record at, with its sessions."""
    records.establish_commission(
        id=WRITTEN, parties=["AZ", "KZ"], names={"en": "Soak commission"}, recorded_by="soak"
    )
    for key in range(1, WRITTEN_SESSIONS + 1):
        records.record_convened_session(
            WRITTEN,
            ordinal=key,
            kind="plenary",
            format="in_person",
            start="2024",
            evidence=[Evidence(SOURCE, f"soak session {key}")],
            recorded_by="soak",
        )


def stored_statistics(database: Database) -> tuple[set[str], Counter[str]]:
    """The statistics reported at the writers' sessions, and how many carry each remark."""
    records = database.open_records()
    try:
        statistics = {
            sid: statistic
            for key in range(1, WRITTEN_SESSIONS + 1)
            for sid, statistic in records.session(WRITTEN, str(key)).statistics.items()
        }
    finally:
        records.close()
    return {str(sid) for sid in statistics}, Counter(s.remarks or "" for s in statistics.values())


def stored_sources(database: Database) -> set[str]:
    with psycopg.connect(database.conninfo) as connection:
        rows = connection.execute(
            "SELECT convert_from(state, 'UTF8')::jsonb ->> 'slug' FROM diprec_events "
            "WHERE topic LIKE '%Source.Registered'"
        ).fetchall()
    return {str(row[0]) for row in rows}


def errors_logged(log: Path) -> list[str]:
    return [
        line
        for line in log.read_text(errors="replace").splitlines()
        if " ERROR " in line or "Traceback" in line or '" 500' in line
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--database-url", default=default_conninfo())
    parser.add_argument("--minutes", type=float, default=10.0, help="of hostile traffic")
    parser.add_argument("--quiet-seconds", type=float, default=60.0)
    parser.add_argument(
        "--only", default="", help="comma-separated kinds of hostile traffic (default: all)"
    )
    arguments = parser.parse_args(argv)
    only = {kind.strip() for kind in arguments.only.split(",") if kind.strip()}
    hostile_seconds = arguments.minutes * 60
    random.seed(7)
    started = time.monotonic()
    with scratch_database(arguments.database_url, SCRATCH) as database:
        records = database.open_records()
        load_demo(records)
        record_written_commission(records)
        records.close()
        with ConnectionPool(database.conninfo, min_size=1, max_size=2) as pool:
            keys = ApiKeys(pool)
            _, recorder = keys.create("soak-recorder", "recorder")
            _, hostile_key = keys.create("soak-hostile", "recorder")
        with served(
            database, Path(os.environ.get("TMPDIR", "/tmp")) / "diprec-soak.log"
        ) as service:
            wait_until_caught_up(database, 120)  # the demo record, loaded before serving
            last = LastPosition()
            print(f"quiet: {arguments.quiet_seconds:.0f} s of normal traffic", flush=True)
            meter = CpuMeter(service.process.pid, database.conninfo)
            quiet = normal_traffic(service.base, recorder, arguments.quiet_seconds, 0, last)
            quiet_cpu = meter.used()
            meter = CpuMeter(service.process.pid, database.conninfo)
            print(f"hostile: {hostile_seconds:.0f} s of normal and hostile traffic", flush=True)
            context = multiprocessing.get_context("spawn")
            received, sent = context.Pipe(duplex=False)
            attack = context.Process(
                target=_hostile_apart,
                args=(service.port, hostile_key, hostile_seconds, last.shared, sent, only),
            )
            attack.start()
            mixed = normal_traffic(service.base, recorder, hostile_seconds, 10_000_000, last)
            answers, expected, acknowledged_sources, attack_cpu = received.recv()
            attack.join()
            mixed_cpu = meter.used()
            hostile = Hostile(
                answers={kind: Counter(counts) for kind, counts in answers.items()},
                expected=expected,
                sources=set(acknowledged_sources),
            )
            wait_until_caught_up(database, 120)
            ready = json.loads(
                run_load(
                    service.base,
                    lambda _: Request("GET", "/ready"),
                    1,
                    5,
                    max_requests=1,
                    keep_bodies=True,
                )
                .bodies[0]
                .body
            )
        statistics, remarks = stored_statistics(database)
        sources = stored_sources(database)
    acknowledged = quiet.acknowledged | mixed.acknowledged
    lost = acknowledged - statistics
    twice = {remark for remark, n in remarks.items() if n > 1 and remark and "soak" in remark}
    ratio = mixed.health.p99_ms / quiet.health.p99_ms if quiet.health.p99_ms else float("inf")
    five_hundreds = sum(
        load.statuses.get(500, 0)
        for load in (
            quiet.health,
            quiet.writes,
            quiet.reads,
            mixed.health,
            mixed.writes,
            mixed.reads,
        )
    ) + sum(answered.get(500, 0) for answered in hostile.answers.values())
    print()
    print(
        f"soak: {hostile_seconds / 60:.1f} min hostile after "
        f"{arguments.quiet_seconds:.0f} s quiet, {time.monotonic() - started:.0f} s in all"
    )
    for name, phase in (("quiet", quiet), ("hostile", mixed)):
        print(f"  {name:8} /health {phase.health.line()}")
        print(f"  {name:8} writes  {phase.writes.line()}")
        print(f"  {name:8} reads   {phase.reads.line()}")
    for name, used, seconds, extra in (
        ("quiet", quiet_cpu, arguments.quiet_seconds, ""),
        (
            "hostile",
            mixed_cpu,
            hostile_seconds,
            f", hostile clients {attack_cpu / hostile_seconds:.2f}",
        ),
    ):
        print(
            f"  {name:8} CPU cores busy: server {used.server / seconds:.2f}, projection worker "
            f"{used.started / seconds:.2f}, PostgreSQL {used.database / seconds:.2f}{extra}"
        )
    print(
        f"  /health p99 under hostile traffic: {ratio:.2f}× the quiet one's (goal ≤ {HEALTH_GOAL}×)"
    )
    for kind, answered in sorted(hostile.answers.items()):
        shown = ", ".join(f"{status}×{n}" for status, n in sorted(answered.items()))
        print(f"  hostile {kind:20} {shown}")
    print(
        f"  writes acknowledged: {len(acknowledged)} statistics, {len(hostile.sources)} sources; "
        f"lost {len(lost)}, stored twice {len(twice)}; sources lost "
        f"{len(hostile.sources - sources)}"
    )
    print(f"  read models: {ready.get('status')}")
    failures = []
    if lost or hostile.sources - sources:
        failures.append("acknowledged writes were lost")
    if twice:
        failures.append("writes were stored twice")
    if ready.get("status") != "ready":
        failures.append(f"the read models are not current: {ready}")
    if five_hundreds:
        failures.append(f"{five_hundreds} answers were 500")
    if hostile.unexpected():
        failures.append(
            f"hostile requests answered otherwise than expected: {hostile.unexpected()}"
        )
    if ratio > HEALTH_GOAL:
        failures.append(f"/health p99 grew {ratio:.2f}×")
    logged = errors_logged(service.log)
    if logged:
        failures.append(f"the service logged {len(logged)} errors, e.g. {logged[0]}")
    if failures:
        for failure in failures:
            print(f"FAILED: {failure}")
        raise SystemExit(1)
    print("every guarantee held")


if __name__ == "__main__":
    main()
