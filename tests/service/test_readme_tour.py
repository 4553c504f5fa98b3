"""The README's first tour, run as written against a served instance, so it cannot drift.

The tour's shell blocks run in order in one bash, as a reader would paste them into one shell
(variables such as ``SID`` carry over), against ``diprec serve --demo`` on a fresh database.
Only two things are put in: the demo keys the service printed (the tour shows them as
``dpr_…``) and the port it serves on. Each block's answers are then held to what the README
shows after it:

- every request answers 2xx, except the last of a block whose shown answer is a problem (its
  ``status``) or an HTTP status line: that one must answer exactly that status;
- a shown JSON answer matches the block's last JSON answer: each shown field is there with the
  shown value; ``"…": "…"`` stands for fields not shown (without it the fields are exactly
  those shown), ``"…"`` in a list for items not shown (the shown ones answered in order),
  ``…`` inside a string for any text, and a UUID for any UUID (ids are minted anew in every
  run);
- shown headers are among the answer's headers, matched the same way.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cli import ROOT, SERVE, free_port

pytestmark = pytest.mark.postgres

README = ROOT / "README.md"
ELLIPSIS = "…"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
END = "@@tour: end of block {}@@"


@dataclass
class Step:
    """One shell block of the tour and the answer shown after it, if any."""

    number: int
    shell: str
    shown_kind: str | None = None
    shown: str | None = None

    def __str__(self) -> str:
        return f"tour block {self.number}:\n{self.shell}"


def tour_steps(readme: str) -> list[Step]:
    """The shell blocks of the section "A first tour", each with the answer shown after it."""
    start = readme.index("\n## A first tour\n")
    end = readme.find("\n## ", start + 1)
    section = readme[start : end if end != -1 else len(readme)]
    steps: list[Step] = []
    for fence in FENCE.finditer(section):
        kind, body = fence[1], fence[2]
        if kind == "sh":
            steps.append(Step(len(steps) + 1, body))
        elif kind in ("json", "http"):
            assert steps, f"a {kind} block before any shell block in the tour"
            assert steps[-1].shown is None, f"two answers shown after {steps[-1]}"
            steps[-1].shown_kind, steps[-1].shown = kind, body
    return steps


def matches(shown: Any, actual: Any) -> bool:
    """Whether an answer shown in the README is the service's answer, as the module says."""
    return difference(shown, actual) is None


def difference(shown: Any, actual: Any, at: str = "answer") -> str | None:
    """Where a shown answer first differs from the service's, or None where it does not."""
    if isinstance(shown, dict):
        if not isinstance(actual, dict):
            return f"{at}: shown an object, answered {actual!r}"
        fields = {name: value for name, value in shown.items() if name != ELLIPSIS}
        if ELLIPSIS not in shown and set(fields) != set(actual):
            return f"{at}: shown fields {sorted(fields)}, answered {sorted(actual)}"
        for name, value in fields.items():
            if name not in actual:
                return f"{at}.{name}: shown, not answered"
            if (found := difference(value, actual[name], f"{at}.{name}")) is not None:
                return found
        return None
    if isinstance(shown, list):
        if not isinstance(actual, list):
            return f"{at}: shown a list, answered {actual!r}"
        if ELLIPSIS in shown:
            return _subsequence([item for item in shown if item != ELLIPSIS], actual, at)
        if len(shown) != len(actual):
            return f"{at}: shown {len(shown)} items, answered {len(actual)}"
        for index, (item, got) in enumerate(zip(shown, actual, strict=True)):
            if (found := difference(item, got, f"{at}[{index}]")) is not None:
                return found
        return None
    if isinstance(shown, str) and isinstance(actual, str):
        if UUID.match(shown):
            same = UUID.match(actual) is not None
        elif ELLIPSIS in shown:
            pattern = ".*".join(re.escape(part) for part in shown.split(ELLIPSIS))
            same = re.fullmatch(pattern, actual, re.DOTALL) is not None
        else:
            same = shown == actual
    else:
        same = type(shown) is type(actual) and bool(shown == actual)
    return None if same else f"{at}: shown {shown!r}, answered {actual!r}"


def _subsequence(shown: list[Any], actual: list[Any], at: str) -> str | None:
    """Shown items, among which ``"…"`` stood for items not shown: each found, in order."""
    rest = iter(actual)
    for item in shown:
        if not any(difference(item, got) is None for got in rest):
            return f"{at}: shown {item!r}, not answered in this order among {actual!r}"
    return None


def json_answers(output: str) -> list[Any]:
    """The JSON documents in a block's output, in order (other text skipped)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while (at := _next_document(output, at)) != -1:
        try:
            document, at = decoder.raw_decode(output, at)
        except json.JSONDecodeError:
            at += 1
            continue
        found.append(document)
    return found


def _next_document(text: str, at: int) -> int:
    positions = [p for p in (text.find("{", at), text.find("[", at)) if p != -1]
    return min(positions, default=-1)


def check_http(step: Step, shown: str, output: str, status: int) -> None:
    """A shown HTTP answer: its status line, its headers and its body."""
    head, _, body = shown.partition("\n\n")
    status_line, *header_lines = head.splitlines()
    assert status == int(status_line.split()[1]), (str(step), status, output)
    headers = output.replace("\r\n", "\n").partition("\n\n")[0].lower().splitlines()
    for line in header_lines:
        name, _, value = line.lower().partition(":")
        assert any(
            got.partition(":")[0] == name and matches(value.strip(), got.partition(":")[2].strip())
            for got in headers
        ), (str(step), line, headers)
    if body.strip():
        check_json(step, body, output.replace("\r\n", "\n").partition("\n\n")[2])


def check_json(step: Step, shown: str, output: str) -> None:
    expected = json.loads(shown)
    answers = json_answers(output)
    assert answers, (str(step), "no JSON answer", output)
    found = difference(expected, answers[-1])
    assert found is None, f"{step}\n{found}\nwhole answer: {json.dumps(answers[-1])}"


def expected_failure(step: Step) -> int | None:
    """The status the last request of a block must answer, when the README shows a refusal."""
    if step.shown_kind == "http" and step.shown:
        return int(step.shown.split()[1])
    if step.shown_kind == "json" and step.shown:
        shown = json.loads(step.shown)
        if isinstance(shown, dict) and isinstance(shown.get("status"), int) and "type" in shown:
            return int(shown["status"])
    return None


@dataclass
class Served:
    port: int
    keys: dict[str, str]


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Served]:
    """``diprec serve --demo`` on a fresh database, as ``python3 run.py serve`` runs it."""
    port = free_port()
    data_dir = tmp_path / "data"
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [*SERVE, "--demo", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "DIPREC_DATA_DIR": str(data_dir)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        while not _answers(port):
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "the service did not come up"
            time.sleep(0.1)
        keys = json.loads((data_dir / "demo-keys.json").read_text())
        printed = (tmp_path / "serve.log").read_text()
        assert f"export DIPREC_KEY={keys['recorder']}" in printed, printed
        assert f"export DIPREC_READER_KEY={keys['reader']}" in printed, printed
        yield Served(port, keys)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def test_the_tour_runs_as_written_and_answers_as_shown(served: Served, tmp_path: Path) -> None:
    steps = tour_steps(README.read_text(encoding="utf-8"))
    assert len(steps) >= 5, "the tour has lost its shell blocks"
    statuses = tmp_path / "statuses"
    script = [
        "set -u",
        # Every curl of the tour writes its status to a file of its own, unseen by the reader.
        f"curl() {{ command curl -w '%{{stderr}}%{{http_code}}\\n' \"$@\" 2>>{statuses}; }}",
    ]
    for step in steps:
        shell = step.shell.replace(
            "export DIPREC_KEY=dpr_…", f"export DIPREC_KEY={served.keys['recorder']}"
        )
        shell = shell.replace(
            "export DIPREC_READER_KEY=dpr_…", f"export DIPREC_READER_KEY={served.keys['reader']}"
        )
        assert "…" not in shell.replace("# as printed", ""), f"{step} holds a placeholder"
        script += [
            shell.replace("localhost:8000", f"localhost:{served.port}"),
            f"echo; echo '{END.format(step.number)}'",
            f"echo '{END.format(step.number)}' >>{statuses}",
        ]
    run = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout
    outputs = _split(run.stdout, steps)
    codes = _split(statuses.read_text() if statuses.exists() else "", steps)
    for step in steps:
        output, block_codes = outputs[step.number], [int(c) for c in codes[step.number].split()]
        failure = expected_failure(step)
        ordinary = block_codes[:-1] if failure is not None else block_codes
        assert all(200 <= code < 400 for code in ordinary), (str(step), block_codes, output)
        if failure is not None:
            assert block_codes, (str(step), output)
            assert block_codes[-1] == failure, (str(step), block_codes, output)
        if step.shown_kind == "http" and step.shown is not None:
            check_http(step, step.shown, output, block_codes[-1])
        elif step.shown_kind == "json" and step.shown is not None:
            check_json(step, step.shown, output)


def _split(text: str, steps: list[Step]) -> dict[int, str]:
    parts: dict[int, str] = {}
    for step in steps:
        marker = END.format(step.number)
        assert marker in text, (f"{step} did not finish", text)
        parts[step.number], text = text.split(marker, 1)
    return parts


@pytest.mark.parametrize(
    ("shown", "actual", "same"),
    [
        ({"a": 1, "…": "…"}, {"a": 1, "b": 2}, True),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ({"a": 1, "…": "…"}, {"a": 2, "b": 2}, False),
        ([1, "…"], [1, 2, 3], True),
        ([1], [1, 2], False),
        (["…", 3], [1, 2, 3], True),
        ([3, "…", 1], [1, 2, 3], False),
        ("/statistics/…", "/statistics/x", True),
        ("98d20792-ff5b-4a26-8e01-006ead5200dd", "0b7e1c1e-4b7e-4f8e-9c57-1f1c6e3a9d11", True),
        ("98d20792-ff5b-4a26-8e01-006ead5200dd", "az-ru", False),
        (1, True, False),
        ("4400000000", "4400000001", False),
    ],
)
def test_shown_answers_are_matched_as_the_module_says(shown: Any, actual: Any, same: bool) -> None:
    assert matches(shown, actual) is same
