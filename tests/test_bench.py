"""The benchmark command keeps working: run at a tiny size, never as a speed gate."""

from __future__ import annotations

import subprocess
import sys

from tests.integration.cli import ROOT


def test_the_benchmark_command_runs_end_to_end_and_prints_every_figure(
    postgres_server: str,
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--database-url",
            postgres_server,
            "--events",
            "3000",
            "--seconds",
            "0.5",
            "--anchor-seconds",
            "0.5",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for figure in ("| B1 |", "| B2 |", "| B3 |", "| B4 |", "| B5 |", "| B6 |", "| B7 |", "| B8 |"):
        assert figure in result.stdout
    # B8 reports each read, strong and eventual, alone and beside writes.
    for run in (
        "strong, no writes",
        "eventual, no writes",
        "strong with writes",
        "eventual with writes",
    ):
        assert run in result.stdout
    assert "pgbench insert locked, 16 clients" in result.stdout
    # B1 says what each write cost the machine, ours (with the projection worker) and the peer's.
    assert "CPU per write: ours server" in result.stdout
    assert ", worker " in result.stdout
    assert "; peer server" in result.stdout
