"""Commissions: bilateral bodies identified by a slug and an unordered pair of countries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Self

from eventsourcing.domain import Aggregate

from domain.base import RecordAggregate
from domain.codes import MAX_LANGUAGE_TAG, is_language_tag
from domain.dates import PartialDate
from domain.errors import Problems, field_key, shown
from domain.ids import commission_id
from domain.values import (
    MAX_LIST,
    MAX_NAME,
    MAX_TENURES,
    MAX_TEXT,
    MAX_TITLE,
    Evidence,
    check_country,
    check_end_not_before_start,
    check_evidence_shape,
    check_optional_text,
    check_party,
    check_slug,
    check_text,
    normalize,
    parse_partial_date,
)


def same_person(a: str, b: str) -> bool:
    """Names match when they are the same text, ignoring case (``Shahin`` is not ``Şahin``)."""
    return normalize(a).casefold() == normalize(b).casefold()


@dataclass(frozen=True, slots=True)
class Tenure:
    """One person's time as a party's co-chair; ``until`` is ``None`` while serving."""

    party: str
    name: str
    title: str
    since: PartialDate | None
    until: PartialDate | None
    evidence: tuple[Evidence, ...]


class Commission(RecordAggregate):
    """An intergovernmental commission and its co-chairs' tenures."""

    slug: str
    parties: list[str]
    names: dict[str, str]
    established_on: PartialDate | None
    mandate: str | None

    def __init__(self) -> None:
        self.tenures: list[Tenure] = []

    class Event(Aggregate.Event):
        recorded_by: str

    class Established(Aggregate.Created):
        CATALOGUE_NAME: ClassVar[str] = "CommissionEstablished"
        recorded_by: str
        slug: str
        parties: list[str]
        names: dict[str, str]
        established_on: PartialDate | None
        mandate: str | None

        def apply(self, aggregate: Any) -> None:
            commission: Commission = aggregate
            commission.slug = self.slug
            commission.parties = list(self.parties)
            commission.names = dict(self.names)
            commission.established_on = self.established_on
            commission.mandate = self.mandate

    class CoChairAppointed(Event):
        CATALOGUE_NAME: ClassVar[str] = "CoChairAppointed"
        party: str
        name: str
        title: str
        since: PartialDate | None
        evidence: list[Evidence]

        def apply(self, aggregate: Any) -> None:
            commission: Commission = aggregate
            commission.tenures.append(
                Tenure(self.party, self.name, self.title, self.since, None, tuple(self.evidence))
            )

    class CoChairTenureEnded(Event):
        CATALOGUE_NAME: ClassVar[str] = "CoChairTenureEnded"
        party: str
        name: str
        until: PartialDate
        evidence: list[Evidence]

        def apply(self, aggregate: Any) -> None:
            commission: Commission = aggregate
            index = commission._serving_index(self.party, self.name)
            assert index is not None, "a tenure can only end while it lasts"
            tenure = commission.tenures[index]
            commission.tenures[index] = Tenure(
                tenure.party,
                tenure.name,
                tenure.title,
                tenure.since,
                self.until,
                tenure.evidence + tuple(self.evidence),
            )

    @classmethod
    def establish(
        cls,
        *,
        slug: str,
        parties: Sequence[str],
        names: Mapping[str, str],
        established_on: str | None = None,
        mandate: str | None = None,
        recorded_by: str,
        recorded_on: date,
    ) -> Self:
        problems = Problems()
        check_slug(problems, "id", slug)
        for index, party in enumerate(parties[:2]):  # a longer list is refused below
            check_country(problems, f"parties[{index}]", party)
        problems.require(
            len(parties) == 2 and parties[0] != parties[1],
            "parties",
            "a commission has exactly two distinct parties",
        )
        problems.require(bool(names), "names", 'give at least one name, e.g. {"en": "..."}')
        problems.require(len(names) <= MAX_LIST, "names", f"at most {MAX_LIST} names")
        checked_names: dict[str, str] = {}
        for language, name in list(names.items())[:MAX_LIST]:
            field = f"names.{field_key(language)}"
            problems.require(
                is_language_tag(language),
                field,
                f"{shown(language)} is not a BCP 47 language tag (e.g. en, ru, az-Latn) "
                f"of at most {MAX_LANGUAGE_TAG} characters",
            )
            checked_names[language] = check_text(problems, field, name, MAX_TITLE)
        established = parse_partial_date(
            problems, "established_on", established_on, not_after=recorded_on
        )
        mandate = check_optional_text(problems, "mandate", mandate, MAX_TEXT)
        problems.raise_if_any()
        return cls._create(
            cls.Established,
            id=commission_id(slug),
            recorded_by=recorded_by,
            slug=slug,
            parties=sorted(parties),
            names=checked_names,
            established_on=established,
            mandate=mandate,
        )

    def appoint_co_chair(
        self,
        *,
        party: str,
        name: str,
        title: str,
        since: str | None,
        evidence: Sequence[Evidence],
        recorded_by: str,
        recorded_on: date,
    ) -> None:
        problems = Problems()
        check_party(problems, "party", party, self.parties)
        name = check_text(problems, "name", name, MAX_NAME)
        title = check_text(problems, "title", title, MAX_TITLE)
        started = parse_partial_date(problems, "since", since, not_after=recorded_on)
        checked_evidence = check_evidence_shape(problems, evidence)
        if self._serving_index(party, name) is not None:
            problems.add("name", f"{name} already serves as co-chair for {party}")
        # Only appointments are refused: a commission that holds more tenures (recorded before
        # the bound) may still end them.
        problems.require(
            len(self.tenures) < MAX_TENURES,
            "commission",
            f"commission {self.slug} has had {len(self.tenures):,} co-chairs appointed already; "
            f"a commission may have at most {MAX_TENURES:,}",
        )
        problems.raise_if_any()
        self.trigger_event(
            self.CoChairAppointed,
            recorded_by=recorded_by,
            party=party,
            name=name,
            title=title,
            since=started,
            evidence=checked_evidence,
        )

    def end_co_chair_tenure(
        self,
        *,
        party: str,
        name: str,
        until: str,
        evidence: Sequence[Evidence],
        recorded_by: str,
        recorded_on: date,
    ) -> None:
        problems = Problems()
        check_party(problems, "party", party, self.parties)
        name = check_text(problems, "name", name, MAX_NAME)
        ended = parse_partial_date(problems, "until", until, not_after=recorded_on)
        checked_evidence = check_evidence_shape(problems, evidence)
        index = self._serving_index(party, name)
        if index is None:
            problems.add("name", f"{name} is not serving as co-chair for {party}")
        else:
            check_end_not_before_start(problems, "until", self.tenures[index].since, ended)
        problems.raise_if_any()
        assert ended is not None
        self.trigger_event(
            self.CoChairTenureEnded,
            recorded_by=recorded_by,
            party=party,
            name=self.tenures[index].name if index is not None else name,
            until=ended,
            evidence=checked_evidence,
        )

    def _serving_index(self, party: str, name: str) -> int | None:
        for index, tenure in enumerate(self.tenures):
            if tenure.party == party and tenure.until is None and same_person(tenure.name, name):
                return index
        return None

    @property
    def current_co_chairs(self) -> list[Tenure]:
        return [tenure for tenure in self.tenures if tenure.until is None]
