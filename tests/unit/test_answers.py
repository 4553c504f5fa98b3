"""Answers remembered by the read models' positions, and questions asked at once answered once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from projections.queries import Answers


def test_a_question_asked_by_many_at_once_is_asked_of_the_database_once() -> None:
    answers = Answers()
    asked = 0
    release = threading.Event()

    def ask() -> str:
        nonlocal asked
        asked += 1
        release.wait(10)
        return "the timeline"

    with ThreadPoolExecutor(20) as pool:
        waiting = [pool.submit(answers.answer, ("timeline", 7), ask) for _ in range(20)]
        time.sleep(0.2)  # every asker has arrived: the first asks, the others wait for it
        release.set()
        given = [future.result(10) for future in waiting]

    assert given == ["the timeline"] * 20
    assert asked == 1
    assert answers.get(("timeline", 7)) == "the timeline"


def test_those_waiting_on_a_failed_asking_ask_again_themselves() -> None:
    answers = Answers()
    first = threading.Event()
    calls: list[str] = []

    def failing() -> str:
        calls.append("failing")
        first.wait(10)
        raise RuntimeError("the database went away")

    def succeeding() -> str:
        calls.append("succeeding")
        return "an answer"

    with ThreadPoolExecutor(2) as pool:
        leader = pool.submit(answers.answer, "q", failing)
        time.sleep(0.1)
        follower = pool.submit(answers.answer, "q", succeeding)
        time.sleep(0.1)
        first.set()
        with pytest.raises(RuntimeError):
            leader.result(10)
        assert follower.result(10) == "an answer"
    assert calls == ["failing", "succeeding"]


def test_nothing_is_remembered_for_a_question_without_an_answer() -> None:
    answers = Answers()
    assert answers.answer("missing", lambda: None) is None
    assert answers.answer("missing", lambda: "found later") == "found later"
