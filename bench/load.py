"""An HTTP load generator for servers on this host (loopback only), and a server's peak memory.

``run_load`` sends requests from ``concurrency`` threads, each over its own persistent
``http.client.HTTPConnection`` (keep-alive), and measures every request's latency with
``time.perf_counter``. Closed loop (``rate=None``): each thread sends its next request as soon
as the previous one is answered. Open loop (``rate`` requests/s across all threads): request
``i`` is due at ``start + i / rate``, and its latency is counted from when it was due, not from
when a free thread got to send it, so a server (or generator) that falls behind shows up in the
latencies instead of silently lowering the rate. It stops by itself after ``seconds`` or
``max_requests``, whichever comes first.

The generator is CPython threads under one GIL: ``LoadResult.client_cpu`` says how much CPU
this process used per second of the run; near 1.0 it is the bottleneck, not the server.

    python -m bench.load                 self-test: start the peer, load it for 3 s, print
    python -m bench.load --url http://127.0.0.1:8000 --path /health
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple
from urllib.parse import urlsplit

import psycopg

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
ERROR_PAUSE = 0.01
"""Seconds a thread waits after a connection error before its next request."""
JSON_HEADERS: Mapping[str, str] = MappingProxyType({"Content-Type": "application/json"})


class Request(NamedTuple):
    """One request to send: method, path (with query), body, headers."""

    method: str
    path: str
    body: bytes | None = None
    headers: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Reply:
    """One answered request (kept only with ``keep_bodies``); times are ``perf_counter``
    seconds, comparable with any other ``perf_counter`` reading in this process."""

    index: int
    status: int
    body: bytes
    sent_at: float
    answered_at: float


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What a load run did and how fast the server answered."""

    count: int
    """Requests answered, whatever the status, plus those that failed to connect (status 0)."""
    seconds: float
    """From the first request's start to the last answer."""
    per_second: float
    """``count / seconds``."""
    p50_ms: float
    """Median latency of the requests that got an HTTP answer."""
    p99_ms: float
    """99th percentile latency (nearest rank) of the requests that got an HTTP answer."""
    max_ms: float
    statuses: dict[int, int]
    """HTTP status → count; 0 counts connection errors and timeouts (after each, the thread
    reconnects for its next request, ``ERROR_PAUSE`` later)."""
    client_cpu: float
    """CPU seconds this whole process used per second of the run (1.0 = one core busy)."""
    max_lag_ms: float = 0.0
    """Open loop only: how late the latest request was sent after it was due."""
    bodies: tuple[Reply, ...] = field(default=())

    def line(self) -> str:
        """The result as one line of a report."""
        statuses = ", ".join(f"{status}×{n}" for status, n in sorted(self.statuses.items()))
        lag = f", max lag {self.max_lag_ms:.1f} ms" if self.max_lag_ms else ""
        return (
            f"{self.per_second:,.0f} req/s ({self.count:,} in {self.seconds:.1f} s), "
            f"p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms, max {self.max_ms:.1f} ms; "
            f"[{statuses}]; load generator CPU {self.client_cpu:.2f} core{lag}"
        )


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (0.0 when there are none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def memory_peak(pid: int) -> int:
    """Peak resident memory (VmHWM) of process ``pid`` so far, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    msg = f"no VmHWM in /proc/{pid}/status"
    raise RuntimeError(msg)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) process ``pid`` has used so far, in seconds; the difference
    of two readings over a run's seconds is how many cores it kept busy."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The processes ``pid`` started that are still running."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with suppress(OSError):
            found += map(int, (task / "children").read_text().split())
    return found


@dataclass(frozen=True, slots=True)
class CpuUse:
    """CPU seconds used over a run by a server's process, by the processes it started (a
    projection worker), and by the PostgreSQL backends connected to its database."""

    server: float
    started: float
    database: float

    def per_request(self, count: int) -> str:
        """Milliseconds of each per request, as one phrase of a report."""
        if count <= 0:
            return "no requests"
        parts = [
            ("server", self.server),
            ("worker", self.started),
            ("PostgreSQL", self.database),
        ]
        return (
            ", ".join(f"{name} {1000 * seconds / count:.2f}" for name, seconds in parts if seconds)
            + " ms"
        )


class CpuMeter:
    """Reads the CPU a server and its database use, at the start and end of a load: what each
    request cost the machine besides the load generator (``LoadResult.client_cpu``)."""

    def __init__(self, pid: int, conninfo: str) -> None:
        self.pid = pid
        self.conninfo = conninfo
        self._start = self._read()

    def _read(self) -> tuple[float, dict[int, float], dict[int, float]]:
        with psycopg.connect(self.conninfo, autocommit=True) as connection:
            backends = [
                pid
                for (pid,) in connection.execute(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ]
        return (
            cpu_seconds(self.pid),
            _cpu_of(children(self.pid)),
            _cpu_of(backends),
        )

    def used(self) -> CpuUse:
        """What was used since the meter was made (processes that ended meanwhile are not
        counted; those started meanwhile are, from their start)."""
        server, started, database = self._read()
        before_server, before_started, before_database = self._start
        return CpuUse(
            server - before_server,
            sum(seconds - before_started.get(pid, 0.0) for pid, seconds in started.items()),
            sum(seconds - before_database.get(pid, 0.0) for pid, seconds in database.items()),
        )


def _cpu_of(pids: list[int]) -> dict[int, float]:
    used: dict[int, float] = {}
    for pid in pids:
        with suppress(OSError):
            used[pid] = cpu_seconds(pid)
    return used


class _Ticket:
    """Hands out request indexes to the threads until the count or the clock runs out."""

    def __init__(self, max_requests: int | None) -> None:
        self._lock = threading.Lock()
        self._next = 0
        self._max = max_requests

    def take(self) -> int | None:
        with self._lock:
            if self._max is not None and self._next >= self._max:
                return None
            index = self._next
            self._next += 1
            return index


@dataclass
class _Tally:
    """One thread's measurements, merged when the run ends."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    replies: list[Reply] = field(default_factory=list)
    last_answer: float = 0.0
    max_lag: float = 0.0


def run_load(
    base_url: str,
    requests: Callable[[int], Request],
    concurrency: int,
    seconds: float,
    rate: float | None = None,
    *,
    max_requests: int | None = None,
    keep_bodies: bool = False,
    on_reply: Callable[[Reply], None] | None = None,
    timeout: float = 30.0,
) -> LoadResult:
    """Sends ``requests(i)`` for i = 0, 1, … to ``base_url`` (http on a loopback address)
    from ``concurrency`` threads for ``seconds`` (or ``max_requests``), closed loop, or open
    loop at ``rate`` requests/s; see the module's docstring. ``on_reply`` is called in the
    sending thread as each answer arrives (e.g. to start timing its visibility)."""
    url = urlsplit(base_url)
    if url.scheme != "http" or url.hostname not in LOOPBACK:
        msg = f"run_load drives loopback http servers only, not {base_url!r}"
        raise ValueError(msg)
    host, port = url.hostname, url.port or 80
    prefix = url.path.rstrip("/")
    if concurrency < 1 or seconds <= 0 or (rate is not None and rate <= 0):
        msg = "concurrency, seconds and rate must be positive"
        raise ValueError(msg)
    tickets = _Ticket(max_requests)
    tallies = [_Tally() for _ in range(concurrency)]
    clock: dict[str, float] = {}

    def start_clock() -> None:
        clock["cpu"] = time.process_time()
        clock["start"] = time.perf_counter()
        clock["deadline"] = clock["start"] + seconds

    barrier = threading.Barrier(concurrency, action=start_clock)

    def connect() -> http.client.HTTPConnection:
        return http.client.HTTPConnection(host, port, timeout=timeout)

    def work(tally: _Tally) -> None:
        connection: http.client.HTTPConnection | None = None
        first = connect()
        try:
            first.connect()
            connection = first
        except OSError:
            first.close()
        barrier.wait()
        start, deadline = clock["start"], clock["deadline"]
        while True:
            index = tickets.take()
            if index is None:
                break
            if rate is not None:
                due = start + index / rate
                if due >= deadline:
                    break
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            elif time.perf_counter() >= deadline:
                break
            request = requests(index)
            sent_at = time.perf_counter()
            body = b""
            try:
                if connection is None:
                    connection = connect()
                connection.request(
                    request.method, prefix + request.path, request.body, dict(request.headers)
                )
                response = connection.getresponse()
                body = response.read()
                status = response.status
                if response.will_close:
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException):
                status = 0
                if connection is not None:
                    connection.close()
                connection = None
                time.sleep(ERROR_PAUSE)  # no busy loop against a server that is down
            answered_at = time.perf_counter()
            if rate is not None:
                tally.max_lag = max(tally.max_lag, sent_at - due)
                began = due
            else:
                began = sent_at
            tally.statuses[status] += 1
            tally.last_answer = answered_at
            if status:
                tally.latencies.append(answered_at - began)
            if keep_bodies or on_reply is not None:
                reply = Reply(index, status, body, sent_at, answered_at)
                if keep_bodies:
                    tally.replies.append(reply)
                if on_reply is not None:
                    on_reply(reply)
        if connection is not None:
            connection.close()

    failures: list[BaseException] = []

    def guarded(tally: _Tally) -> None:
        try:
            work(tally)
        except BaseException as error:  # re-raised in the caller's thread below
            failures.append(error)
            barrier.abort()

    threads = [threading.Thread(target=guarded, args=(tally,), daemon=True) for tally in tallies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    cpu = time.process_time() - clock["cpu"]
    end = max((tally.last_answer for tally in tallies), default=0.0)
    elapsed = max(end - clock["start"], 1e-9)
    latencies = sorted(latency for tally in tallies for latency in tally.latencies)
    statuses: Counter[int] = Counter()
    for tally in tallies:
        statuses.update(tally.statuses)
    count = sum(statuses.values())
    replies = sorted((reply for tally in tallies for reply in tally.replies), key=_index)
    return LoadResult(
        count=count,
        seconds=elapsed,
        per_second=count / elapsed,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        max_ms=(latencies[-1] * 1000) if latencies else 0.0,
        statuses=dict(statuses),
        client_cpu=cpu / elapsed,
        max_lag_ms=max(tally.max_lag for tally in tallies) * 1000,
        bodies=tuple(replies),
    )


def _index(reply: Reply) -> int:
    return reply.index


def statistic_requests(path: str = "/statistics") -> Callable[[int], Request]:
    """POSTs of the peer's sample statistic (``bench.peer.sample_statistic``) to ``path``."""
    from bench.peer import sample_statistic

    def build(index: int) -> Request:
        return Request("POST", path, json.dumps(sample_statistic(index)).encode(), JSON_HEADERS)

    return build


def get_requests(path: str) -> Callable[[int], Request]:
    """The same GET every time."""
    request = Request("GET", path)

    def build(_: int) -> Request:
        return request

    return build


def main(argv: list[str] | None = None) -> None:
    """Loads a server given by --url, or (self-test) a peer it starts itself."""
    from bench.machine import default_conninfo
    from bench.peer import free_port, peer_server

    parser = argparse.ArgumentParser(
        prog="python -m bench.load",
        description="Load a loopback HTTP server and print rate, p50/p99 and statuses. "
        "Without --url: start the hand-rolled peer (bench.peer) and load it with POST "
        "/statistics, then GET /health (the server without the database), then POSTs paced at "
        "--rate; print each, and the peer's peak memory.",
    )
    parser.add_argument("--url", help="Base URL of a running server (loopback only).")
    parser.add_argument("--path", default="/health", help="With --url: GET this path.")
    parser.add_argument("--concurrency", type=int, default=16, help="Threads/connections.")
    parser.add_argument("--seconds", type=float, default=3, help="Per run.")
    parser.add_argument("--rate", type=float, default=200, help="Open-loop run: requests/s.")
    parser.add_argument("--conninfo", default=default_conninfo(), help="For the peer.")
    parser.add_argument("--pool-size", type=int, default=10, help="The peer's connections.")
    args = parser.parse_args(argv)
    if args.url:
        result = run_load(args.url, get_requests(args.path), args.concurrency, args.seconds)
        print(f"GET {args.path}: {result.line()}")
        return
    with peer_server(args.conninfo, free_port(), args.pool_size) as server:
        runs = [
            ("POST /statistics, closed loop", statistic_requests(), args.concurrency, None),
            ("GET /health, closed loop", get_requests("/health"), args.concurrency, None),
            ("POST /statistics, open loop", statistic_requests(), args.concurrency, args.rate),
        ]
        for title, build, concurrency, rate in runs:
            before = cpu_seconds(server.pid)
            result = run_load(server.base_url, build, concurrency, args.seconds, rate)
            busy = (cpu_seconds(server.pid) - before) / result.seconds
            paced = f" at {rate:g}/s" if rate else ""
            print(f"peer {title}{paced}, c={concurrency}: {result.line()}; server CPU {busy:.2f}")
        print(f"peer peak RSS: {memory_peak(server.pid) / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
