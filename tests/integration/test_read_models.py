"""The read models on real PostgreSQL: the demo answers, corrections as of before and after,
exactly-once projection under concurrency, gaps, and rebuilds equal to incremental builds."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import sql

from api.database import Database
from api.demo import COMMISSION, SESSION, SOURCE, load_demo
from domain.application import ConflictError, Records
from domain.values import Evidence
from projections.queries import ReadModels
from projections.runner import Projector
from projections.store import ReadModelStore

Dump = dict[str, list[tuple[Any, ...]]]


def dump(store: ReadModelStore) -> Dump:
    """Every row of every live read-model table, in a stable order."""
    tables: Dump = {}
    with store.transaction() as cursor:
        for name, generation in sorted(store.live().items()):
            cursor.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (generation.schema,),
            )
            for row in sorted(r["table_name"] for r in cursor.fetchall()):
                cursor.execute(
                    sql.SQL("SELECT * FROM {}.{}").format(
                        sql.Identifier(generation.schema), sql.Identifier(row)
                    )
                )
                tables[f"{name}.{row}"] = sorted(
                    (tuple(r.values()) for r in cursor.fetchall()), key=repr
                )
    return tables


def rebuild_all(projector: Projector) -> None:
    projector.rebuild_all(list(projector.models))


def evidence(quote: str = "was held in Baku") -> list[Evidence]:
    return [Evidence(SOURCE, quote)]


def report_imports(records: Records) -> None:
    """Reports the 2023 AZ–RU imports at the demo session."""
    records.report_statistic(
        COMMISSION,
        SESSION,
        measure="imports",
        value_kind="level",
        value="1.2E9",
        unit="USD",
        qualifier="approximately",
        reporter="AZ",
        partner="RU",
        period="2023",
        evidence=evidence(),
        recorded_by="analyst",
    )


def turnover_id(read_models: ReadModels) -> UUID:
    position = read_models.trade_position(("AZ", "RU"), "trade_turnover", None)
    [level] = [f for f in position["figures"] if f["value_kind"] == "level"]
    return UUID(str(level["id"]))


def test_the_timeline_holds_exactly_the_demo_facts_in_order(
    pg_records: Records, projector: Projector
) -> None:
    load_demo(pg_records)
    projector.catch_up()

    page = ReadModels(projector.store).timeline(COMMISSION, None, None, None, None, 500)

    assert page is not None
    entries = [(e["kind"], e["date"]) for e in page.items]
    assert entries[0] == ("declaration", "2022-02-22")
    assert [kind for kind, when in entries if when == "2023"] == ["statistic"] * 4
    assert entries[5:7] == [("session", "2024"), ("protocol", "2024")]
    assert sorted(kind for kind, _ in entries) == sorted(
        ["declaration", "session", "protocol"] + ["statistic"] * 9
    )
    assert all(entry["evidence"] for entry in page.items)
    assert page.position == pg_records.recorder.max_notification_id()


def test_the_trade_position_shows_2023_turnover_with_its_quote_and_source(
    pg_records: Records, projector: Projector
) -> None:
    load_demo(pg_records)
    projector.catch_up()

    answer = ReadModels(projector.store).trade_position(("RU", "AZ"), None, None)

    figures = {(f["measure"], f["value_kind"]): f for f in answer["figures"]}
    level = figures[("trade_turnover", "level")]
    change = figures[("trade_turnover", "change_pct")]
    assert (level["value"], level["unit"], level["qualifier"], level["period"]) == (
        "4400000000",
        "USD",
        "approximately",
        "2023",
    )
    assert (change["value"], change["unit"], change["period"]) == ("17.5", "percent", "2023")
    assert level["session"] == SESSION
    assert [{"source": e["source"], "quote": e["quote"]} for e in level["evidence"]] == [
        {
            "source": SOURCE,
            "quote": "reaching a record level of approximately 4.4 billion US dollars",
        }
    ]
    assert level["sources"][0]["publisher"].startswith("Azerbaijan State News Agency")
    assert answer["parties"] == ["AZ", "RU"]


def test_a_correction_is_invisible_as_of_before_it_and_visible_after(
    pg_records: Records, projector: Projector
) -> None:
    load_demo(pg_records)
    projector.catch_up()
    read_models = ReadModels(projector.store)
    statistic = turnover_id(read_models)
    before = datetime.now().astimezone()

    pg_records.correct_statistic(
        statistic,
        changes={"value": "4.45E9"},
        reason="the ministry revised the figure",
        evidence=evidence(),
        recorded_by="analyst",
    )
    projector.catch_up()

    assert read_models.statistic(statistic, before)["value"] == "4400000000"  # type: ignore[index]
    now = read_models.statistic(statistic, None)
    assert now is not None
    assert (now["value"], now["revision"]) == ("4450000000", 2)
    old_position = read_models.trade_position(("AZ", "RU"), "trade_turnover", before)
    assert {f["value"] for f in old_position["figures"]} >= {"4400000000"}
    history = read_models.statistic_history(statistic, None)
    assert history is not None
    assert [(v["change"], v["value"], v["current"]) for v in history["versions"]] == [
        ("reported", "4400000000", False),
        ("corrected", "4450000000", True),
    ]
    assert history["versions"][1]["reason"] == "the ministry revised the figure"
    assert history["versions"][1]["recorded_by"] == "analyst"
    as_it_was = read_models.statistic_history(statistic, before)
    assert as_it_was is not None
    assert [v["change"] for v in as_it_was["versions"]] == ["reported"]


def test_a_retracted_figure_never_shows_as_current_but_stays_in_history(
    pg_records: Records, projector: Projector
) -> None:
    load_demo(pg_records)
    projector.catch_up()
    read_models = ReadModels(projector.store)
    statistic = turnover_id(read_models)

    pg_records.retract_statistic(statistic, reason="misreported", recorded_by="analyst")
    projector.catch_up()

    answer = read_models.trade_position(("AZ", "RU"), "trade_turnover", None)
    assert ("trade_turnover", "level") not in {
        (f["measure"], f["value_kind"]) for f in answer["figures"]
    }
    assert statistic not in {f["id"] for f in answer["series"]}
    revisions = [r for r in answer["revisions"] if r["id"] == statistic]
    assert [(r["change"], r["retracted"], r["current"]) for r in revisions] == [
        ("reported", False, False),
        ("retracted", True, True),
    ]
    timeline = read_models.timeline(COMMISSION, None, None, None, None, 500)
    assert timeline is not None
    assert str(statistic) not in {str(e["details"].get("id")) for e in timeline.items}
    commission = read_models.commission(COMMISSION, None)
    assert commission is not None
    assert commission["counts"]["retracted_statistics"] == 1


def test_gaps_in_log_positions_are_tolerated(
    database: Database, pg_records: Records, projector: Projector
) -> None:
    load_demo(pg_records)
    with database.connect(autocommit=True) as connection:
        for _ in range(3):  # ids burnt as by rolled-back inserts
            connection.execute("SELECT nextval('diprec_events_notification_id_seq')")
    report_imports(pg_records)

    projector.catch_up()

    last = pg_records.recorder.max_notification_id()
    assert last is not None
    assert {g.position for g in projector.store.live().values()} == {last}
    figures = ReadModels(projector.store).trade_position(("AZ", "RU"), "imports", None)["figures"]
    assert [f["value"] for f in figures] == ["1200000000"]


def test_a_rebuild_equals_the_incrementally_maintained_read_models(
    pg_records: Records, projector: Projector
) -> None:
    load_demo(pg_records)
    projector.catch_up()
    statistic = turnover_id(ReadModels(projector.store))
    pg_records.correct_statistic(
        statistic,
        changes={"period": "2023-01/2023-12"},
        reason="precise period",
        evidence=evidence(),
        recorded_by="analyst",
    )
    pg_records.correct_session(
        COMMISSION,
        SESSION,
        changes={"end": "2024"},
        reason="one-day meeting",
        evidence=evidence(),
        recorded_by="analyst",
    )
    pg_records.retract_statistic(statistic, reason="double counted", recorded_by="analyst")
    # The demo's source has no text: once it has, its quotes are checked again, some verified,
    # the others found wanting.
    pg_records.register_source_text(
        SOURCE, text="The 22nd meeting was held in Baku.", recorded_by="analyst"
    )
    projector.catch_up()
    incremental = dump(projector.store)
    # The status is the fourth column of a quote: (source, quote_key, quote, status, ...).
    assert {"verified", "mismatch", "unverified"} <= {
        row[3] for row in incremental["evidence.quotes"]
    }

    rebuild_all(projector)

    assert dump(projector.store) == incremental
    assert {g.generation for g in projector.store.live().values()} == {2}


def write_statistics(database: Database, count: int, outcomes: list[str]) -> None:
    records = database.open_records()
    try:
        for index in range(count):
            try:
                records.report_statistic(
                    COMMISSION,
                    SESSION,
                    measure="exports",
                    value_kind="level",
                    value=str(1000 + index),
                    unit="USD",
                    qualifier="exact",
                    reporter="AZ",
                    partner="RU",
                    period="2023",
                    evidence=evidence(),
                    recorded_by="writer",
                )
                outcomes.append("stored")
            except ConflictError:
                outcomes.append("conflict")
    finally:
        records.close()


def test_writers_and_two_projectors_at_once_leave_read_models_equal_to_a_rebuild(
    database: Database, pg_records: Records, projector: Projector
) -> None:
    load_demo(pg_records)
    second_store = database.read_model_store()
    second = Projector(database.open_records(), second_store, batch_size=7)
    outcomes: list[str] = []
    writing = [
        threading.Thread(target=write_statistics, args=(database, 30, outcomes)) for _ in range(3)
    ]
    done = threading.Event()

    def project(each: Projector) -> None:
        while not done.is_set():
            each.catch_up()

    projecting = [threading.Thread(target=project, args=(p,)) for p in (projector, second)]
    for thread in writing + projecting:
        thread.start()
    for thread in writing:
        thread.join()
    done.set()
    for thread in projecting:
        thread.join()
    projector.catch_up()

    stored = outcomes.count("stored")
    figures = ReadModels(projector.store).trade_position(("AZ", "RU"), "exports", None)
    assert len(figures["series"]) == stored
    with projector.store.transaction() as cursor:
        schema = projector.store.live()["history"].schema
        cursor.execute(
            sql.SQL("SELECT count(*) AS n, count(DISTINCT position) AS d FROM {}.history").format(
                sql.Identifier(schema)
            )
        )
        counted = cursor.fetchone()
    events = len(pg_records.recorder.select_notifications(start=1, limit=10_000))
    located = sum(
        1
        for n in pg_records.recorder.select_notifications(start=1, limit=10_000)
        if n.topic.endswith("StatisticIndex.Located")
    )
    assert counted == {"n": events - located, "d": events - located}
    incremental = dump(projector.store)
    rebuild_all(projector)
    assert dump(projector.store) == incremental
    second_store.close_pool()
    second.records.close()


def test_a_query_never_sees_a_half_built_generation(
    pg_records: Records, projector: Projector
) -> None:
    load_demo(pg_records)
    projector.catch_up()
    read_models = ReadModels(projector.store)
    answers: list[int] = []
    done = threading.Event()

    def ask() -> None:
        while not done.is_set():
            page = read_models.timeline(COMMISSION, None, None, None, None, 500)
            assert page is not None
            answers.append(len(page.items))

    asking = threading.Thread(target=ask)
    asking.start()
    try:
        for _ in range(3):
            rebuild_all(projector)
    finally:
        done.set()
        asking.join()

    assert answers
    assert set(answers) == {12}


def test_an_answer_is_reused_until_the_read_models_move(
    pg_records: Records, projector: Projector
) -> None:
    load_demo(pg_records)
    projector.catch_up()
    read_models = ReadModels(projector.store)
    first = read_models.timeline(COMMISSION, None, None, None, None, 500)

    assert read_models.timeline(COMMISSION, None, None, None, None, 500) is first

    report_imports(pg_records)
    projector.catch_up()
    moved = read_models.timeline(COMMISSION, None, None, None, None, 500)

    assert first is not None
    assert moved is not None
    assert len(moved.items) == len(first.items) + 1
    assert moved.position > first.position
