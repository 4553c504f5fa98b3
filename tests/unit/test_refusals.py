"""A client's budget of refused requests: spent by refusals only, refilled with time."""

from __future__ import annotations

import time

import pytest

from api.middleware import Refusals


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    return now


def test_a_client_that_spends_its_budget_is_answered_late_until_it_refills(
    clock: list[float],
) -> None:
    refusals = Refusals(per_second=2)  # a budget of ten refusals, two more a second
    assert [refusals.refused("key a") for _ in range(10)] == [0.0] * 10
    assert refusals.refused("key a") == 1.0
    assert refusals.refused("key b") == 0.0  # another client's budget is its own
    clock[0] += 1  # two more
    assert [refusals.refused("key a") for _ in range(2)] == [0.0, 1.0]


def test_the_budget_refills_no_further_than_five_seconds_worth(clock: list[float]) -> None:
    refusals = Refusals(per_second=2)
    clock[0] += 3600
    assert [refusals.refused("key a") for _ in range(11)] == [0.0] * 10 + [1.0]


def test_no_budget_slows_nobody(clock: list[float]) -> None:
    refusals = Refusals(per_second=0)
    assert {refusals.refused("address 127.0.0.1") for _ in range(1000)} == {0.0}


def test_only_so_many_clients_are_remembered(clock: list[float]) -> None:
    refusals = Refusals(per_second=1, clients=3)
    for client in ("a", "b", "c", "d"):
        for _ in range(5):
            refusals.refused(client)
    assert refusals.refused("a") == 0.0  # forgotten, so its budget is whole again
    assert refusals.refused("d") == 1.0
