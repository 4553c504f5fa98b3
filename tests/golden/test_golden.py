"""Golden-log replay: fixed logs imported into an empty store, fixed questions, fixed answers.

Each log in ``logs/`` (written once by ``make_logs.py``, never regenerated here) is imported
with ``api.importer.import_log``, the read models catch up, and the HTTP API is asked a fixed
set of questions, several of them ``as_of`` a moment between two events of the log. Each
answer is compared with ``expected/<log>/<question>.json`` (status and body, pretty-printed
with sorted keys, so a change shows as a reviewable diff).

``DIPREC_UPDATE_GOLDEN=1`` writes the expected files instead of comparing them (and removes
those no question asks for any more); read the diff before committing it. Without it, a
missing expected file is a failure.

"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from api.database import Database
from api.eventlog import iter_events
from api.importer import EVENTS_TABLE, ImportRefusedError, import_log
from domain.application import Records
from projections.runner import Projector
from projections.values import timestamp

HERE = Path(__file__).resolve().parent
LOGS = HERE / "logs"
EXPECTED = HERE / "expected"
UPDATE = os.environ.get("DIPREC_UPDATE_GOLDEN") == "1"

AZ_RU = "az-ru-economic"
AZ_KZ = "az-kz-economic"
CO_CHAIRS_MEETING = "2024-10-02-co-chairs"

Params = Sequence[tuple[str, str]]


# --- the logs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Log:
    """A golden log: its lines as stored, and its events parsed."""

    name: str
    lines: tuple[str, ...]
    events: tuple[dict[str, Any], ...]

    @classmethod
    def read(cls, name: str) -> Log:
        text = (LOGS / f"{name}.ndjson").read_text(encoding="utf-8")
        lines = tuple(line for line in text.splitlines() if line.strip())
        return cls(name, lines, tuple(json.loads(line) for line in lines))

    def index(self, type_: str, nth: int = 1, **data: Any) -> int:
        """The index of the ``nth`` event of ``type_`` whose data has the values given."""
        found = [
            i
            for i, event in enumerate(self.events)
            if event["type"] == type_ and all(event["data"].get(k) == v for k, v in data.items())
        ]
        assert len(found) >= nth, f"{self.name}: no {nth}. {type_} with {data}"
        return found[nth - 1]

    def moment(self, index: int) -> datetime:
        return datetime.fromisoformat(self.events[index]["recorded_at"])

    def between(self, index: int) -> str:
        """A moment of record time after event ``index`` and before the next one: ``as_of``
        it, the record holds events up to ``index`` and none after."""
        earlier = self.moment(index)
        if index + 1 == len(self.events):
            return timestamp(earlier + timedelta(seconds=1))
        later = self.moment(index + 1)
        middle = earlier + (later - earlier) / 2
        assert earlier < middle < later, f"{self.name}: events {index} and {index + 1} tie"
        return timestamp(middle)

    def before_everything(self) -> str:
        return timestamp(self.moment(0) - timedelta(days=1))

    def after(self, type_: str, nth: int = 1, **data: Any) -> str:
        """Just after the write of the ``nth`` event of ``type_`` (and its index entry)."""
        index = self.index(type_, nth, **data)
        if type_ == "StatisticReported":
            index += 1  # stored in one write with its StatisticLocated
            assert self.events[index]["type"] == "StatisticLocated"
        return self.between(index)

    def before(self, type_: str, nth: int = 1, **data: Any) -> str:
        """Just before the ``nth`` event of ``type_``."""
        return self.between(self.index(type_, nth, **data) - 1)

    def statistic(
        self, measure: str, value_kind: str, period: str | None = None, commission: str = AZ_RU
    ) -> str:
        """The id of the one statistic of ``commission`` reported with these values."""
        sessions = {
            event["stream"]: event["data"]["commission"]
            for event in self.events
            if event["type"] in ("SessionScheduled", "SessionConvened")
        }
        [statistic_id] = [
            event["data"]["statistic_id"]
            for event in self.events
            if event["type"] == "StatisticReported"
            and sessions[event["stream"]] == commission
            and event["data"]["measure"] == measure
            and event["data"]["value_kind"] == value_kind
            and event["data"]["period"] == period
        ]
        return str(statistic_id)


@cache
def golden_log(name: str) -> Log:
    return Log.read(name)


LOG_NAMES = ("demo", "corrections", "second_commission")


# --- the questions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """A GET of the API; ``name`` is the expected file's name."""

    name: str
    path: str
    params: Params = field(default_factory=tuple)

    @property
    def request(self) -> str:
        query = urlencode(self.params, safe=":,")
        return f"GET {self.path}" + (f"?{query}" if query else "")


def _q(name: str, path: str, *params: tuple[str, str]) -> Question:
    return Question(name, path, params)


def az_ru_questions(log: Log) -> list[Question]:
    """What every log is asked about the AZ–RU commission as it now stands."""
    c = f"/commissions/{AZ_RU}"
    level = log.statistic("trade_turnover", "level", "2023")
    return [
        _q("commissions", "/commissions"),
        _q("commissions_ru_az", "/commissions", ("party", "RU"), ("party", "AZ")),
        _q("az_ru_commission", c),
        _q("az_ru_co_chairs", f"{c}/co-chairs"),
        _q("az_ru_co_chairs_on_2024", f"{c}/co-chairs", ("on", "2024")),
        _q("az_ru_sessions", f"{c}/sessions"),
        _q("az_ru_session_22", f"{c}/sessions/22"),
        _q("az_ru_timeline", f"{c}/timeline"),
        _q("az_ru_timeline_2023", f"{c}/timeline", ("from", "2023"), ("to", "2023")),
        _q("az_ru_history", f"{c}/history", ("limit", "500")),
        _q("trade_position_az_ru", "/trade-position", ("parties", "AZ,RU")),
        _q(
            "trade_position_az_ru_turnover",
            "/trade-position",
            ("parties", "RU,AZ"),
            ("measure", "trade_turnover"),
        ),
        _q("statistic_turnover_2023", f"/statistics/{level}"),
        _q("statistic_turnover_2023_history", f"/statistics/{level}/history"),
        _q("declarations", "/declarations"),
        _q("declarations_allied", "/declarations", ("title", "ALLIED interaction")),
    ]


def demo_questions(log: Log) -> list[Question]:
    c = f"/commissions/{AZ_RU}"
    nothing = log.before_everything()
    established = log.after("CommissionEstablished")
    one_co_chair = log.after("CoChairAppointed")
    convened = log.after("SessionConvened")
    # After the turnover's change, before its level: half of the figures are in.
    half = log.after("StatisticReported", measure="trade_turnover", value_kind="change_pct")
    before_protocol = log.before("ProtocolSigned")
    level = log.statistic("trade_turnover", "level", "2023")
    return [
        *az_ru_questions(log),
        _q("commissions_as_of_before_everything", "/commissions", ("as_of", nothing)),
        _q("az_ru_commission_as_of_established", c, ("as_of", established)),
        _q("az_ru_co_chairs_as_of_one_appointed", f"{c}/co-chairs", ("as_of", one_co_chair)),
        _q("az_ru_session_22_as_of_established", f"{c}/sessions/22", ("as_of", established)),
        _q(
            "az_ru_session_22_as_of_convened",
            f"{c}/sessions/22",
            ("as_of", convened),
        ),
        _q(
            "az_ru_sessions_as_of_convened",
            f"{c}/sessions",
            ("as_of", convened),
        ),
        _q("az_ru_timeline_as_of_half_the_figures", f"{c}/timeline", ("as_of", half)),
        _q("az_ru_history_as_of_convened", f"{c}/history", ("as_of", convened)),
        _q(
            "trade_position_az_ru_as_of_half_the_figures",
            "/trade-position",
            ("parties", "AZ,RU"),
            ("as_of", half),
        ),
        _q(
            "statistic_turnover_2023_as_of_before_it_was_reported",
            f"/statistics/{level}",
            ("as_of", half),
        ),
        _q("declarations_as_of_established", "/declarations", ("as_of", established)),
        _q("az_ru_commission_as_of_before_protocol", c, ("as_of", before_protocol)),
    ]


def corrections_questions(log: Log) -> list[Question]:
    c = f"/commissions/{AZ_RU}"
    level = log.statistic("trade_turnover", "level", "2023")
    rank = log.statistic("agricultural_exports", "rank")
    before_correction = log.before("StatisticCorrected")
    after_correction = log.after("StatisticCorrected")
    after_retraction = log.after("StatisticRetracted")
    turnover = (("parties", "AZ,RU"), ("measure", "trade_turnover"))
    agricultural = (("parties", "AZ,RU"), ("measure", "agricultural_exports"))
    return [
        *az_ru_questions(log),
        _q("errata_source", "/sources/golden-errata-az-ru-2024"),
        # The turnover level: 4.4 bn before its correction was recorded, 4.45 bn after.
        _q(
            "trade_position_az_ru_turnover_as_of_before_correction",
            "/trade-position",
            *turnover,
            ("as_of", before_correction),
        ),
        _q(
            "trade_position_az_ru_turnover_as_of_after_correction",
            "/trade-position",
            *turnover,
            ("as_of", after_correction),
        ),
        _q(
            "statistic_turnover_2023_as_of_before_correction",
            f"/statistics/{level}",
            ("as_of", before_correction),
        ),
        _q(
            "statistic_turnover_2023_as_of_after_correction",
            f"/statistics/{level}",
            ("as_of", after_correction),
        ),
        _q(
            "statistic_turnover_2023_history_as_of_before_correction",
            f"/statistics/{level}/history",
            ("as_of", before_correction),
        ),
        _q("az_ru_timeline_as_of_before_correction", f"{c}/timeline", ("as_of", before_correction)),
        # The retracted rank: gone from figures and the timeline, kept in its revisions.
        _q("statistic_agricultural_rank", f"/statistics/{rank}"),
        _q("statistic_agricultural_rank_history", f"/statistics/{rank}/history"),
        _q(
            "statistic_agricultural_rank_as_of_before_retraction",
            f"/statistics/{rank}",
            ("as_of", after_correction),
        ),
        _q("trade_position_az_ru_agricultural", "/trade-position", *agricultural),
        _q(
            "trade_position_az_ru_agricultural_as_of_before_retraction",
            "/trade-position",
            *agricultural,
            ("as_of", after_correction),
        ),
        _q("az_ru_commission_as_of_before_retraction", c, ("as_of", after_correction)),
        # The session's summary, before and after its correction.
        _q(
            "az_ru_session_22_as_of_before_session_correction",
            f"{c}/sessions/22",
            ("as_of", after_retraction),
        ),
        _q(
            "az_ru_history_as_of_before_session_correction",
            f"{c}/history",
            ("limit", "500"),
            ("as_of", after_retraction),
        ),
    ]


def second_commission_questions(log: Log) -> list[Question]:
    c = f"/commissions/{AZ_KZ}"
    scheduled = log.after("SessionScheduled", key="8")
    postponed = log.after("SessionPostponed")
    session_7 = log.after("ProtocolSigned", 2)
    tenure_ended = log.after("CoChairTenureEnded")
    before_cancel = log.before("SessionCancelled")
    jan_aug = log.statistic("trade_turnover", "level", "2024-01/2024-08", AZ_KZ)
    jan_apr = log.statistic("trade_turnover", "level", "2024-01/2024-04", AZ_KZ)
    turnover = (("parties", "KZ,AZ"), ("measure", "trade_turnover"))
    return [
        *az_ru_questions(log),
        _q("commissions_with_kz", "/commissions", ("party", "KZ")),
        _q("commissions_with_az", "/commissions", ("party", "AZ")),
        _q("bulletin_source", "/sources/golden-az-kz-bulletin-2025"),
        _q("az_kz_commission", c),
        _q("az_kz_co_chairs", f"{c}/co-chairs"),
        _q("az_kz_co_chairs_on_2024_05", f"{c}/co-chairs", ("on", "2024-05")),
        _q("az_kz_co_chairs_on_2024_10", f"{c}/co-chairs", ("on", "2024-10")),
        _q("az_kz_co_chairs_on_2024", f"{c}/co-chairs", ("on", "2024")),
        _q("az_kz_sessions", f"{c}/sessions"),
        _q("az_kz_sessions_cancelled", f"{c}/sessions", ("status", "cancelled")),
        _q("az_kz_session_7", f"{c}/sessions/7"),
        _q("az_kz_session_8", f"{c}/sessions/8"),
        _q("az_kz_session_9", f"{c}/sessions/9"),
        _q("az_kz_session_co_chairs_meeting", f"{c}/sessions/{CO_CHAIRS_MEETING}"),
        _q("az_kz_timeline", f"{c}/timeline"),
        _q("az_kz_timeline_2024_h1", f"{c}/timeline", ("from", "2024-01"), ("to", "2024-06")),
        _q("az_kz_history", f"{c}/history", ("limit", "500")),
        _q("trade_position_az_kz", "/trade-position", ("parties", "KZ,AZ")),
        _q(
            "trade_position_az_kz_turnover",
            "/trade-position",
            *turnover,
        ),
        _q("statistic_turnover_jan_aug_2024", f"/statistics/{jan_aug}"),
        _q("statistic_turnover_jan_apr_2024_history", f"/statistics/{jan_apr}/history"),
        _q("declarations_caspian", "/declarations", ("title", "caspian")),
        # As the record stood at earlier moments.
        _q("az_kz_sessions_as_of_scheduled", f"{c}/sessions", ("as_of", scheduled)),
        _q(
            "az_kz_session_7_as_of_postponed",
            f"{c}/sessions/7",
            ("as_of", postponed),
        ),
        _q("az_kz_timeline_as_of_postponed", f"{c}/timeline", ("as_of", postponed)),
        _q("az_kz_commission_as_of_session_7", c, ("as_of", session_7)),
        _q("az_kz_co_chairs_as_of_tenure_ended", f"{c}/co-chairs", ("as_of", tenure_ended)),
        _q(
            "trade_position_az_kz_turnover_as_of_session_7",
            "/trade-position",
            *turnover,
            ("as_of", session_7),
        ),
        _q("declarations_as_of_session_7", "/declarations", ("as_of", session_7)),
        _q(
            "az_kz_session_8_as_of_before_cancellation",
            f"{c}/sessions/8",
            ("as_of", before_cancel),
        ),
        _q("az_kz_history_as_of_postponed", f"{c}/history", ("as_of", postponed)),
    ]


QUESTIONS = {
    "demo": demo_questions,
    "corrections": corrections_questions,
    "second_commission": second_commission_questions,
}


# --- replaying a log --------------------------------------------------------------------------


@dataclass
class Replay:
    """A log imported into the test database, its read models caught up, and a client."""

    log: Log
    client: TestClient
    position: int

    def ask(self, question: Question) -> dict[str, Any]:
        params: list[tuple[str, str | int | float | bool | None]] = [
            *question.params,
            ("min_position", self.position),
        ]
        response = self.client.get(question.path, params=params)
        return {
            "request": question.request,
            "status": response.status_code,
            "body": response.json(),
        }


@pytest.fixture
def replay(
    database: Database, pg_records: Records, projector: Projector, client: TestClient
) -> Callable[[str], Replay]:
    """Replays a log into the empty test database and answers with the suite's client (the
    service as ``diprec serve`` runs it, runner and API keys included)."""

    def replay_log(name: str) -> Replay:
        log = golden_log(name)
        imported = import_log(database, pg_records, log.lines)
        assert imported.events == len(log.lines)
        # The runner would catch up too; this makes sure the read models hold the whole log
        # before the first question (each also passes min_position).
        projector.catch_up()
        return Replay(log, client, imported.last_position)

    return replay_log


def _text(answer: dict[str, Any]) -> str:
    return json.dumps(answer, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _check_answers(replay: Replay, questions: Sequence[Question]) -> None:
    folder = EXPECTED / replay.log.name
    problems: list[str] = []
    for question in questions:
        path = folder / f"{question.name}.json"
        actual = _text(replay.ask(question))
        if UPDATE:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            continue
        if not path.exists():
            problems.append(f"{question.name}: no expected file {path.relative_to(HERE)}")
            continue
        expected = path.read_text(encoding="utf-8")
        if actual != expected:
            diff = "".join(
                difflib.unified_diff(
                    expected.splitlines(keepends=True),
                    actual.splitlines(keepends=True),
                    f"expected/{replay.log.name}/{question.name}.json",
                    "answer",
                    n=2,
                )
            )
            problems.append(f"{question.name}: the answer differs\n{diff}")
    assert not problems, f"{len(problems)} of {len(questions)} answers:\n" + "\n".join(problems)


# --- the tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LOG_NAMES)
def test_a_replayed_log_answers_every_question_as_recorded(
    name: str, replay: Callable[[str], Replay]
) -> None:
    replayed = replay(name)
    questions = QUESTIONS[name](replayed.log)
    _check_answers(replayed, questions)


@pytest.mark.parametrize("name", LOG_NAMES)
def test_every_expected_answer_belongs_to_a_question(name: str) -> None:
    names = [f"{question.name}.json" for question in QUESTIONS[name](golden_log(name))]
    assert len(set(names)) == len(names), "two questions share a name"
    asked = set(names)
    folder = EXPECTED / name
    stale = sorted(p.name for p in folder.glob("*.json") if p.name not in asked)
    if UPDATE:
        for file in stale:
            (folder / file).unlink()
        return
    assert stale == [], f"expected files no question asks for: {stale}"


def _export(records: Records) -> list[dict[str, Any]]:
    return [json.loads(event.model_dump_json()) for event in iter_events(records)]


@pytest.mark.parametrize("name", LOG_NAMES)
def test_export_after_import_gives_back_the_log(
    name: str, database: Database, pg_records: Records
) -> None:
    log = golden_log(name)

    import_log(database, pg_records, log.lines)
    exported = _export(pg_records)

    # The store's positions start at 1 like the log's, so nothing needs ignoring.
    assert exported == list(log.events)


def _stored_events(database: Database) -> int:
    with database.connect() as connection:
        row = connection.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(EVENTS_TABLE))
        ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("name", LOG_NAMES)
def test_importing_a_log_twice_refuses_the_second_import_and_stores_nothing(
    name: str, database: Database, pg_records: Records
) -> None:
    log = golden_log(name)
    first = import_log(database, pg_records, log.lines)
    stored = _stored_events(database)

    with pytest.raises(ImportRefusedError, match="conflicts with the store"):
        import_log(database, pg_records, log.lines)

    assert stored == len(log.lines)
    assert _stored_events(database) == stored
    assert pg_records.recorder.max_notification_id() == first.last_position
    assert _export(pg_records) == list(log.events)
