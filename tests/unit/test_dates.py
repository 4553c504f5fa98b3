"""Partial dates (YYYY, YYYY-Qn, YYYY-MM, YYYY-MM-DD) and periods of them."""

from __future__ import annotations

from datetime import date

import pytest

from domain.dates import PartialDate, PartialDateError, Period, Precision


def d(text: str) -> PartialDate:
    return PartialDate.parse(text)


def p(text: str) -> Period:
    return Period.parse(text)


# --- parsing ------------------------------------------------------------------------------------


def test_a_year_spans_the_whole_year() -> None:
    year = d("2024")
    assert (year.first_day, year.last_day, year.precision) == (
        date(2024, 1, 1),
        date(2024, 12, 31),
        Precision.YEAR,
    )


@pytest.mark.parametrize(
    ("text", "first_day", "last_day"),
    [
        ("2020-Q1", date(2020, 1, 1), date(2020, 3, 31)),
        ("2020-Q2", date(2020, 4, 1), date(2020, 6, 30)),
        ("2020-Q3", date(2020, 7, 1), date(2020, 9, 30)),
        ("2020-Q4", date(2020, 10, 1), date(2020, 12, 31)),
    ],
)
def test_a_quarter_spans_its_three_months(text: str, first_day: date, last_day: date) -> None:
    quarter = d(text)
    assert (quarter.first_day, quarter.last_day, quarter.precision) == (
        first_day,
        last_day,
        Precision.QUARTER,
    )


@pytest.mark.parametrize(
    ("text", "last_day"),
    [
        ("2024-01", date(2024, 1, 31)),
        ("2024-02", date(2024, 2, 29)),
        ("2023-02", date(2023, 2, 28)),
        ("2024-04", date(2024, 4, 30)),
        ("2024-12", date(2024, 12, 31)),
    ],
)
def test_a_month_ends_on_its_last_day_leap_years_included(text: str, last_day: date) -> None:
    month = d(text)
    assert month.precision is Precision.MONTH
    assert month.first_day == last_day.replace(day=1)
    assert month.last_day == last_day


def test_a_day_is_a_span_of_one_day() -> None:
    day = d("2022-02-22")
    assert (day.first_day, day.last_day, day.precision) == (
        date(2022, 2, 22),
        date(2022, 2, 22),
        Precision.DAY,
    )
    assert PartialDate.of_day(date(2022, 2, 22)) == day


def test_the_29th_of_february_exists_in_a_leap_year() -> None:
    assert d("2024-02-29").first_day == date(2024, 2, 29)


@pytest.mark.parametrize(
    "text",
    [
        "2024-13",
        "2024-00",
        "2023-02-29",
        "2024-04-31",
        "2024-01-00",
        "2024-Q5",
        "2024-Q0",
        "2024-q1",
        "Q4 2020",
        "24",
        "024",
        "20245",
        "2024-1",
        "2024-01-1",
        "2024-1-01",
        "0000",
        "",
        " 2024",
        "2024 ",
        "2024\n",
        "2024-01-01T00:00",
        "2024/01",
        "٢٠٢٤",
    ],
)
def test_anything_but_the_four_forms_is_refused(text: str) -> None:
    with pytest.raises(PartialDateError):
        d(text)


def test_the_refusal_names_the_expected_forms() -> None:
    with pytest.raises(PartialDateError, match=r"YYYY, YYYY-Qn, YYYY-MM or YYYY-MM-DD"):
        d("last year")


def test_a_refusal_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="no month 13"):
        d("2024-13")


@pytest.mark.parametrize("text", ["2024", "2020-Q4", "2024-05", "2024-05-17", "0001", "9999-12"])
def test_a_partial_date_prints_as_it_was_written(text: str) -> None:
    assert str(d(text)) == text
    assert d(str(d(text))) == d(text)


def test_equal_texts_give_equal_hashable_values() -> None:
    assert d("2024-Q2") == d("2024-Q2")
    assert len({d("2024-Q2"), d("2024-Q2"), d("2024-04")}) == 2


def test_a_quarter_is_not_the_same_value_as_its_first_month() -> None:
    assert d("2024-Q1") != d("2024-01")


# --- ordering -----------------------------------------------------------------------------------


def test_dates_are_ordered_by_their_first_day() -> None:
    assert d("2023") < d("2024-01")
    assert d("2024-Q1") < d("2024-04")
    assert d("2023-12-31") < d("2024")
    assert d("2024") < d("2024-Q2")
    assert d("2024-02-10") > d("2024-Q1")


def test_dates_starting_together_are_ordered_shortest_first() -> None:
    assert d("2024-01-01") < d("2024-01") < d("2024-Q1") < d("2024")
    assert d("2024") > d("2024-Q1")
    assert d("2024") >= d("2024-Q1")
    assert d("2024-01") <= d("2024-01")


def test_sorting_mixed_precisions_follows_the_calendar() -> None:
    texts = ["2024-05", "2023", "2024", "2020-Q4", "2024-01-15", "2024-Q1"]
    assert [str(x) for x in sorted(map(d, texts))] == [
        "2020-Q4",
        "2023",
        "2024-Q1",
        "2024",
        "2024-01-15",
        "2024-05",
    ]


# --- containment and overlap --------------------------------------------------------------------


def test_a_year_contains_its_quarter_its_month_and_its_day() -> None:
    year, quarter, month, day = d("2024"), d("2024-Q1"), d("2024-02"), d("2024-02-10")
    assert year.contains(quarter)
    assert quarter.contains(month)
    assert month.contains(day)
    assert year.contains(day)


def test_a_finer_date_does_not_contain_a_coarser_one() -> None:
    assert not d("2024-Q1").contains(d("2024"))
    assert not d("2024-02").contains(d("2024-Q1"))
    assert not d("2024-02-10").contains(d("2024-02"))


def test_a_date_contains_itself() -> None:
    assert d("2024-Q3").contains(d("2024-Q3"))


def test_a_quarter_does_not_contain_the_month_after_it() -> None:
    assert not d("2024-Q1").contains(d("2024-04"))
    assert not d("2024").contains(d("2025-01"))


def test_overlap_needs_a_shared_day() -> None:
    assert d("2024-Q1").overlaps(d("2024-03"))
    assert d("2024-03").overlaps(d("2024-Q1"))
    assert d("2024-03-31").overlaps(d("2024-Q1"))
    assert not d("2024-Q1").overlaps(d("2024-04"))
    assert not d("2024-04-01").overlaps(d("2024-Q1"))


def test_a_date_is_certainly_before_another_only_if_it_ends_before_that_begins() -> None:
    assert d("2023").is_certainly_before(d("2024-01"))
    assert not d("2024").is_certainly_before(d("2024-05"))
    assert not d("2024-05").is_certainly_before(d("2024"))


def test_a_date_is_after_a_day_only_if_it_begins_after_it() -> None:
    assert d("2024-03").is_after_day(date(2024, 2, 29))
    assert not d("2024-03").is_after_day(date(2024, 3, 1))
    assert not d("2024").is_after_day(date(2024, 6, 1))


# --- periods ------------------------------------------------------------------------------------


def test_a_period_runs_from_the_first_day_of_its_start_to_the_last_day_of_its_end() -> None:
    january_to_may = p("2024-01/2024-05")
    assert january_to_may.start == d("2024-01")
    assert january_to_may.end == d("2024-05")
    assert (january_to_may.first_day, january_to_may.last_day) == (
        date(2024, 1, 1),
        date(2024, 5, 31),
    )


def test_a_single_partial_date_is_a_period_of_its_own_span() -> None:
    year = p("2023")
    assert year.start == year.end == d("2023")
    assert (year.first_day, year.last_day) == (date(2023, 1, 1), date(2023, 12, 31))


@pytest.mark.parametrize(
    "text", ["2023", "2024-01/2024-05", "2021-01/2021-11", "2020-Q4/2021-Q1", "2023-12-31"]
)
def test_a_period_prints_as_it_was_written(text: str) -> None:
    assert str(p(text)) == text
    assert p(str(p(text))) == p(text)


def test_a_period_from_a_date_to_itself_prints_as_that_date() -> None:
    assert str(p("2023/2023")) == "2023"
    assert p("2023/2023") == p("2023")


@pytest.mark.parametrize("text", ["2024-05/2024-01", "2024/2023", "2024-02-01/2024-01-31"])
def test_a_period_ending_before_it_starts_is_refused(text: str) -> None:
    with pytest.raises(PartialDateError, match="ends before it starts"):
        p(text)


@pytest.mark.parametrize(
    "text", ["2024-01/", "/2024-05", "2024-01/2024-13", "2023/2024/2025", "", "2024 /2025"]
)
def test_a_period_with_a_malformed_end_is_refused(text: str) -> None:
    with pytest.raises(PartialDateError):
        p(text)


def test_a_period_contains_the_dates_and_periods_within_it() -> None:
    january_to_may = p("2024-01/2024-05")
    assert january_to_may.contains(d("2024-03"))
    assert january_to_may.contains(d("2024-Q1"))
    assert january_to_may.contains(p("2024-02/2024-04"))
    assert january_to_may.contains(january_to_may)
    assert p("2024").contains(january_to_may)


def test_a_period_does_not_contain_what_reaches_beyond_it() -> None:
    january_to_may = p("2024-01/2024-05")
    assert not january_to_may.contains(d("2024-06"))
    assert not january_to_may.contains(d("2024-Q2"))
    assert not january_to_may.contains(d("2024"))
    assert not january_to_may.contains(p("2023-12/2024-02"))


def test_periods_overlap_when_they_share_a_day() -> None:
    january_to_may = p("2024-01/2024-05")
    assert january_to_may.overlaps(p("2024-05/2024-08"))
    assert january_to_may.overlaps(d("2024"))
    assert january_to_may.overlaps(p("2023-06/2024-01"))
    assert not january_to_may.overlaps(p("2024-06/2024-12"))
    assert not january_to_may.overlaps(d("2023"))


def test_periods_are_ordered_by_first_day_then_last_day() -> None:
    assert p("2023") < p("2024-01/2024-05") < p("2024") < p("2024-06")
    assert p("2024-01/2024-11") > p("2024-01/2024-05")
    assert p("2024-01/2024-05") <= p("2024-01/2024-05")
    assert p("2024") >= p("2024-01/2024-05")
