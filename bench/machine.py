"""The machine a benchmark ran on, for the header of a report.

A figure means something only next to its anchor measured on the same machine in the same run
(see BENCHMARKS.md); this module records what that machine was: usable cores, CPU model,
memory, the Python running the benchmark, and the PostgreSQL server with its durability setting.

    python -m bench.machine [--conninfo URL]
"""

from __future__ import annotations

import argparse
import os
import platform
from dataclasses import dataclass
from pathlib import Path

import psycopg

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def default_conninfo() -> str:
    """The database benchmarks use unless told: ``BENCH_DATABASE_URL``, ``DATABASE_URL``, or
    the local PostgreSQL's ``postgres`` database; benchmarks create and drop only ``bench_*``
    tables in it."""
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or LOCAL_SERVER


@dataclass(frozen=True, slots=True)
class Machine:
    """What a benchmark ran on (measured, not configured)."""

    cores: int
    """CPUs this process may run on (its affinity), which PostgreSQL shares on this host."""
    cpu_model: str
    """The ``model name`` of the first CPU in /proc/cpuinfo."""
    memory_bytes: int
    """MemTotal from /proc/meminfo."""
    python: str
    """Version and implementation of the Python running the benchmark."""
    postgres: str
    """The server's ``server_version``."""
    synchronous_commit: str
    """The server's ``synchronous_commit`` as a new session sees it."""

    def summary(self) -> str:
        """One line for a report header."""
        return (
            f"{self.cores} cores ({self.cpu_model}), {self.memory_bytes / 2**30:.1f} GiB, "
            f"Python {self.python}, PostgreSQL {self.postgres}, "
            f"synchronous_commit={self.synchronous_commit}"
        )


def _cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    try:
        text = cpuinfo.read_text()
    except OSError:
        return platform.processor() or "unknown"
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            return value.strip()
    return platform.processor() or "unknown"


def _memory_bytes(meminfo: Path = Path("/proc/meminfo")) -> int:
    try:
        text = meminfo.read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return 0


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def describe(conninfo: str) -> Machine:
    """Describes this machine and the PostgreSQL server named by ``conninfo``."""
    with psycopg.connect(conninfo, connect_timeout=10) as connection:
        version = connection.execute("SHOW server_version").fetchone()
        sync = connection.execute("SHOW synchronous_commit").fetchone()
    return Machine(
        cores=_cores(),
        cpu_model=_cpu_model(),
        memory_bytes=_memory_bytes(),
        python=f"{platform.python_version()} ({platform.python_implementation()})",
        postgres=str(version[0]) if version else "unknown",
        synchronous_commit=str(sync[0]) if sync else "unknown",
    )


def main(argv: list[str] | None = None) -> None:
    """Prints the machine's description."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.machine",
        description="Print the machine and PostgreSQL server a benchmark runs on.",
    )
    parser.add_argument("--conninfo", default=default_conninfo(), help="PostgreSQL to describe.")
    args = parser.parse_args(argv)
    print(describe(args.conninfo).summary())


if __name__ == "__main__":
    main()
