"""Sessions of a commission and everything recorded at them.

One aggregate per session: its status (scheduled, convened, postponed, cancelled), its own
record, the protocol signed, the declarations cited and the statistics reported there, with the
corrections and retractions of those facts. The commission's parties are passed in by the
application: they never change, and every party named at a session must be one of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, Literal, Self, TypedDict
from uuid import UUID

from eventsourcing.domain import Aggregate, CanInitAggregate, CanMutateAggregate
from eventsourcing.utils import get_topic

from domain.base import RecordAggregate
from domain.dates import PartialDate, Period
from domain.errors import Problems, field_key, shown
from domain.ids import session_id
from domain.values import (
    MAX_DECLARATIONS,
    MAX_LIST,
    MAX_ORDINAL,
    MAX_POSTPONEMENTS,
    MAX_SESSION_CORRECTIONS,
    MAX_STATISTIC_CORRECTIONS,
    MAX_STATISTICS,
    MAX_TEXT,
    MAX_TITLE,
    MEASURES,
    MIN_ORDINAL,
    QUALIFIERS,
    SESSION_FORMATS,
    SESSION_KEY,
    SESSION_KINDS,
    TOPICS,
    VALUE_KINDS,
    Evidence,
    Place,
    Representative,
    check_choice,
    check_end_not_before_start,
    check_evidence_shape,
    check_optional_text,
    check_party,
    check_place,
    check_representatives,
    check_text,
    check_unit_for_kind,
    check_value_for_kind,
    parse_decimal,
    parse_partial_date,
    parse_period,
)

SessionStatus = Literal["scheduled", "convened", "postponed", "cancelled"]

#: Value kinds whose period may be left out: the session's own date is then meant.
UNDATED_VALUE_KINDS = ("rank", "count")


class SessionRecordChanges(TypedDict, total=False):
    """Fields of a session's own record that a correction may change."""

    kind: str
    format: str | None
    start: str | None
    end: str | None
    planned: str | None
    place: Place | None
    co_chairs: list[Representative]
    topics: list[str]
    summary: str | None


class StatisticChanges(TypedDict, total=False):
    """Fields of a statistic that a correction may change."""

    measure: str
    value_kind: str
    value: str
    unit: str
    qualifier: str
    reporter: str | None
    partner: str | None
    period: str | None
    stated_by: str | None
    remarks: str | None


SESSION_CORRECTABLE = tuple(SessionRecordChanges.__annotations__)
STATISTIC_CORRECTABLE = tuple(StatisticChanges.__annotations__)
#: What a figure says: a correction changing any of these brings evidence of its own, which
#: then stands alone as the figure's evidence (the earlier becomes its superseded evidence).
FIGURE_FIELDS = ("value", "qualifier", "unit", "period", "value_kind")
#: A session's dates: a correction changing any of them brings evidence of its own.
SESSION_DATE_FIELDS = ("start", "end", "planned")


@dataclass(frozen=True, slots=True)
class Protocol:
    title: str | None
    signed_on: PartialDate | None
    signatories: tuple[Representative, ...]
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True, slots=True)
class DeclarationReference:
    title: str
    dated: PartialDate
    characterization: str | None
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True, slots=True)
class Statistic:
    """A figure reported at a session, as it stands after its corrections."""

    id: UUID
    measure: str
    value_kind: str
    value: Decimal
    unit: str
    qualifier: str
    reporter: str | None
    partner: str | None
    period: Period | None
    stated_by: str | None
    remarks: str | None
    evidence: tuple[Evidence, ...]
    revision: int = 1
    retracted: bool = False
    # The evidence of earlier versions that no longer backs the figure as it now stands.
    superseded_evidence: tuple[Evidence, ...] = ()
    retraction_reason: str | None = None


class Session(RecordAggregate):
    """A session of a commission: scheduled, convened, postponed or cancelled."""

    commission: str
    key: str
    ordinal: int | None
    kind: str
    status: SessionStatus
    format: str | None
    start: PartialDate | None
    end: PartialDate | None
    planned: PartialDate | None
    place: Place | None
    co_chairs: list[Representative]
    topics: list[str]
    summary: str | None
    reasons: list[str]

    def __init__(self) -> None:
        self.format = None
        self.start = None
        self.end = None
        self.planned = None
        self.summary = None
        self.co_chairs = []
        self.topics = []
        self.reasons = []
        self.evidence: list[Evidence] = []
        self.protocol: Protocol | None = None
        self.declarations: list[DeclarationReference] = []
        self.statistics: dict[UUID, Statistic] = {}
        # How often it was postponed, and its own record corrected: what its row accumulates.
        self.postponements = 0
        self.corrections = 0

    # --- events ---------------------------------------------------------------------------------

    class Event(Aggregate.Event):
        recorded_by: str

    class Scheduled(Aggregate.Created):
        CATALOGUE_NAME: ClassVar[str] = "SessionScheduled"
        recorded_by: str
        commission: str
        key: str
        ordinal: int | None
        kind: str
        planned: PartialDate
        place: Place | None
        evidence: list[Evidence]

        def apply(self, aggregate: Any) -> None:
            session: Session = aggregate
            session.commission = self.commission
            session.key = self.key
            session.ordinal = self.ordinal
            session.kind = self.kind
            session.status = "scheduled"
            session.planned = self.planned
            session.place = self.place
            session.evidence.extend(self.evidence)

    class Convened(Aggregate.Created):
        """The session was held. It opens the stream of a session recorded only once held,
        and follows ``SessionScheduled`` or ``SessionPostponed`` otherwise."""

        CATALOGUE_NAME: ClassVar[str] = "SessionConvened"
        recorded_by: str
        commission: str
        key: str
        ordinal: int | None
        kind: str
        format: str
        start: PartialDate
        end: PartialDate | None
        place: Place | None
        co_chairs: list[Representative]
        topics: list[str]
        summary: str | None
        evidence: list[Evidence]

        def mutate(self, aggregate: Any) -> Any:
            if aggregate is None:
                return CanInitAggregate.mutate(self, None)
            return CanMutateAggregate.mutate(self, aggregate)

        def apply(self, aggregate: Any) -> None:
            session: Session = aggregate
            session.commission = self.commission
            session.key = self.key
            session.ordinal = self.ordinal
            session.kind = self.kind
            session.status = "convened"
            session.format = self.format
            session.start = self.start
            session.end = self.end
            session.place = self.place
            session.co_chairs = list(self.co_chairs)
            session.topics = list(self.topics)
            session.summary = self.summary
            session.evidence.extend(self.evidence)

    class Postponed(Event):
        CATALOGUE_NAME: ClassVar[str] = "SessionPostponed"
        reason: str
        planned: PartialDate | None
        evidence: list[Evidence]

        def apply(self, aggregate: Any) -> None:
            session: Session = aggregate
            session.status = "postponed"
            if self.planned is not None:
                session.planned = self.planned
            session.postponements += 1
            session.reasons.append(self.reason)
            session.evidence.extend(self.evidence)

    class Cancelled(Event):
        CATALOGUE_NAME: ClassVar[str] = "SessionCancelled"
        reason: str
        evidence: list[Evidence]

        def apply(self, aggregate: Any) -> None:
            session: Session = aggregate
            session.status = "cancelled"
            session.reasons.append(self.reason)
            session.evidence.extend(self.evidence)

    class Corrected(Event):
        CATALOGUE_NAME: ClassVar[str] = "SessionCorrected"
        changes: dict[str, Any]
        reason: str
        evidence: list[Evidence]

        def apply(self, aggregate: Any) -> None:
            session: Session = aggregate
            for field, value in self.changes.items():
                setattr(session, field, list(value) if isinstance(value, list) else value)
            session.corrections += 1
            session.evidence.extend(self.evidence)

    class ProtocolSigned(Event):
        CATALOGUE_NAME: ClassVar[str] = "ProtocolSigned"
        title: str | None
        signed_on: PartialDate | None
        signatories: list[Representative]
        evidence: list[Evidence]

        def apply(self, aggregate: Any) -> None:
            session: Session = aggregate
            session.protocol = Protocol(
                self.title, self.signed_on, tuple(self.signatories), tuple(self.evidence)
            )

    class DeclarationReferenced(Event):
        CATALOGUE_NAME: ClassVar[str] = "DeclarationReferenced"
        title: str
        dated: PartialDate
        characterization: str | None
        evidence: list[Evidence]

        def apply(self, aggregate: Any) -> None:
            session: Session = aggregate
            session.declarations.append(
                DeclarationReference(
                    self.title, self.dated, self.characterization, tuple(self.evidence)
                )
            )

    class StatisticReported(Event):
        CATALOGUE_NAME: ClassVar[str] = "StatisticReported"
        statistic_id: UUID
        measure: str
        value_kind: str
        value: Decimal
        unit: str
        qualifier: str
        reporter: str | None
        partner: str | None
        period: Period | None
        stated_by: str | None
        remarks: str | None
        evidence: list[Evidence]

        def apply(self, aggregate: Any) -> None:
            session: Session = aggregate
            session.statistics[self.statistic_id] = Statistic(
                id=self.statistic_id,
                measure=self.measure,
                value_kind=self.value_kind,
                value=self.value,
                unit=self.unit,
                qualifier=self.qualifier,
                reporter=self.reporter,
                partner=self.partner,
                period=self.period,
                stated_by=self.stated_by,
                remarks=self.remarks,
                evidence=tuple(self.evidence),
            )

    class StatisticCorrected(Event):
        CATALOGUE_NAME: ClassVar[str] = "StatisticCorrected"
        statistic_id: UUID
        changes: dict[str, Any]
        reason: str
        evidence: list[Evidence]

        def apply(self, aggregate: Any) -> None:
            session: Session = aggregate
            statistic = session.statistics[self.statistic_id]
            evidence, superseded = corrected_evidence(
                statistic.evidence, statistic.superseded_evidence, self.changes, self.evidence
            )
            session.statistics[self.statistic_id] = replace(
                statistic,
                **self.changes,
                evidence=evidence,
                superseded_evidence=superseded,
                revision=statistic.revision + 1,
            )

    class StatisticRetracted(Event):
        CATALOGUE_NAME: ClassVar[str] = "StatisticRetracted"
        statistic_id: UUID
        reason: str

        def apply(self, aggregate: Any) -> None:
            session: Session = aggregate
            statistic = session.statistics[self.statistic_id]
            session.statistics[self.statistic_id] = replace(
                statistic, retracted=True, retraction_reason=self.reason
            )

    # --- commands -------------------------------------------------------------------------------

    @classmethod
    def schedule(
        cls,
        *,
        commission: str,
        parties: Sequence[str],
        key: str | None,
        ordinal: int | None,
        kind: str,
        planned: str | None,
        place: Place | None,
        evidence: Sequence[Evidence],
        recorded_by: str,
    ) -> Self:
        problems = Problems()
        key = _check_key(problems, key, ordinal, kind, planned)
        check_choice(problems, "kind", kind, SESSION_KINDS)
        problems.require(planned is not None, "planned", "a scheduled session needs a planned date")
        planned_on = parse_partial_date(problems, "planned", planned)
        place = check_place(problems, "place", place, parties)
        checked_evidence = check_evidence_shape(problems, evidence)
        problems.raise_if_any()
        return cls._create(
            cls.Scheduled,
            id=session_id(commission, key),
            recorded_by=recorded_by,
            commission=commission,
            key=key,
            ordinal=ordinal,
            kind=kind,
            planned=planned_on,
            place=place,
            evidence=checked_evidence,
        )

    @classmethod
    def record_convened(
        cls,
        *,
        commission: str,
        parties: Sequence[str],
        key: str | None,
        ordinal: int | None,
        kind: str,
        format: str | None,
        start: str | None,
        end: str | None,
        place: Place | None,
        co_chairs: Sequence[Representative],
        topics: Sequence[str],
        summary: str | None,
        evidence: Sequence[Evidence],
        recorded_by: str,
        recorded_on: date,
    ) -> Self:
        """A session recorded only once it has been held."""
        problems = Problems()
        key = _check_key(problems, key, ordinal, kind, start)
        fields = _check_convened(
            problems,
            parties,
            kind,
            format,
            start,
            end,
            place,
            co_chairs,
            topics,
            summary,
            recorded_on,
        )
        fields["evidence"] = check_evidence_shape(problems, evidence)
        problems.raise_if_any()
        return cls._create(
            cls.Convened,
            id=session_id(commission, key),
            recorded_by=recorded_by,
            commission=commission,
            key=key,
            ordinal=ordinal,
            **fields,
        )

    def convene(
        self,
        *,
        parties: Sequence[str],
        kind: str | None,
        format: str | None,
        start: str | None,
        end: str | None,
        place: Place | None,
        co_chairs: Sequence[Representative],
        topics: Sequence[str],
        summary: str | None,
        evidence: Sequence[Evidence],
        recorded_by: str,
        recorded_on: date,
    ) -> None:
        """A scheduled or postponed session was held."""
        problems = Problems()
        self._require_status(problems, ("scheduled", "postponed"), "convene")
        fields = _check_convened(
            problems,
            parties,
            kind or self.kind,
            format,
            start,
            end,
            place if place is not None else self.place,
            co_chairs,
            topics,
            summary,
            recorded_on,
        )
        fields["evidence"] = check_evidence_shape(problems, evidence)
        problems.raise_if_any()
        self.trigger_event(
            self.Convened,
            originator_topic=get_topic(type(self)),
            recorded_by=recorded_by,
            commission=self.commission,
            key=self.key,
            ordinal=self.ordinal,
            **fields,
        )

    def postpone(
        self,
        *,
        reason: str,
        planned: str | None,
        evidence: Sequence[Evidence],
        recorded_by: str,
    ) -> None:
        problems = Problems()
        self._require_status(problems, ("scheduled", "postponed"), "postpone")
        self._require_room(
            problems,
            self.postponements,
            MAX_POSTPONEMENTS,
            "has been postponed {n} times",
            "be postponed {n} times",
        )
        reason = check_text(problems, "reason", reason, MAX_TEXT)
        planned_on = parse_partial_date(problems, "planned", planned)
        checked_evidence = check_evidence_shape(problems, evidence)
        problems.raise_if_any()
        self.trigger_event(
            self.Postponed,
            recorded_by=recorded_by,
            reason=reason,
            planned=planned_on,
            evidence=checked_evidence,
        )

    def cancel(self, *, reason: str, evidence: Sequence[Evidence], recorded_by: str) -> None:
        problems = Problems()
        self._require_status(problems, ("scheduled", "postponed"), "cancel")
        reason = check_text(problems, "reason", reason, MAX_TEXT)
        checked_evidence = check_evidence_shape(problems, evidence)
        problems.raise_if_any()
        self.trigger_event(
            self.Cancelled, recorded_by=recorded_by, reason=reason, evidence=checked_evidence
        )

    def sign_protocol(
        self,
        *,
        parties: Sequence[str],
        title: str | None,
        signed_on: str | None,
        signatories: Sequence[Representative],
        evidence: Sequence[Evidence],
        recorded_by: str,
        recorded_on: date,
    ) -> None:
        problems = Problems()
        self._require_status(problems, ("convened",), "sign a protocol at")
        problems.require(
            self.protocol is None, "session", "a protocol has already been recorded for it"
        )
        title = check_optional_text(problems, "title", title, MAX_TITLE)
        signed = parse_partial_date(problems, "signed_on", signed_on, not_after=recorded_on)
        check_end_not_before_start(problems, "signed_on", self.start, signed)
        checked_signatories = check_representatives(problems, "signatories", signatories, parties)
        missing = sorted(set(parties) - {person.party for person in checked_signatories})
        problems.require(
            not missing,
            "signatories",
            f"a protocol needs a signatory of each party; none for {', '.join(missing)}",
        )
        checked_evidence = check_evidence_shape(problems, evidence)
        problems.raise_if_any()
        self.trigger_event(
            self.ProtocolSigned,
            recorded_by=recorded_by,
            title=title,
            signed_on=signed,
            signatories=checked_signatories,
            evidence=checked_evidence,
        )

    def reference_declaration(
        self,
        *,
        title: str,
        dated: str,
        characterization: str | None,
        evidence: Sequence[Evidence],
        recorded_by: str,
        recorded_on: date,
    ) -> None:
        problems = Problems()
        self._require_status(problems, ("convened",), "cite a declaration at")
        self._require_room(
            problems, len(self.declarations), MAX_DECLARATIONS, "cites {n} declarations", "cite {n}"
        )
        title = check_text(problems, "title", title, MAX_TITLE)
        dated_on = parse_partial_date(problems, "dated", dated, not_after=recorded_on)
        characterization = check_optional_text(
            problems, "characterization", characterization, MAX_TITLE
        )
        checked_evidence = check_evidence_shape(problems, evidence)
        if any(
            known.title.casefold() == title.casefold() and known.dated == dated_on
            for known in self.declarations
        ):
            problems.add("title", "this declaration is already cited at this session")
        problems.raise_if_any()
        self.trigger_event(
            self.DeclarationReferenced,
            recorded_by=recorded_by,
            title=title,
            dated=dated_on,
            characterization=characterization,
            evidence=checked_evidence,
        )

    def report_statistic(
        self,
        *,
        statistic_id: UUID,
        parties: Sequence[str],
        measure: str,
        value_kind: str,
        value: str,
        unit: str,
        qualifier: str,
        reporter: str | None,
        partner: str | None,
        period: str | None,
        stated_by: str | None,
        remarks: str | None,
        evidence: Sequence[Evidence],
        recorded_by: str,
        recorded_on: date,
    ) -> None:
        problems = Problems()
        self._require_status(problems, ("convened",), "report a statistic at")
        self._require_room(
            problems, len(self.statistics), MAX_STATISTICS, "holds {n} statistics", "hold {n}"
        )
        fields = _check_statistic(
            problems,
            parties,
            StatisticChanges(
                measure=measure,
                value_kind=value_kind,
                value=value,
                unit=unit,
                qualifier=qualifier,
                reporter=reporter,
                partner=partner,
                period=period,
                stated_by=stated_by,
                remarks=remarks,
            ),
            recorded_on,
        )
        checked_evidence = check_evidence_shape(problems, evidence)
        problems.raise_if_any()
        self.trigger_event(
            self.StatisticReported,
            recorded_by=recorded_by,
            statistic_id=statistic_id,
            evidence=checked_evidence,
            **fields,
        )

    def correct_statistic(
        self,
        *,
        statistic_id: UUID,
        parties: Sequence[str],
        changes: StatisticChanges,
        reason: str,
        evidence: Sequence[Evidence],
        recorded_by: str,
        recorded_on: date,
    ) -> None:
        statistic = self.statistics[statistic_id]
        problems = Problems()
        problems.require(
            not statistic.retracted, "statistic", "a retracted statistic cannot be corrected"
        )
        corrections = statistic.revision - 1
        problems.require(
            corrections < MAX_STATISTIC_CORRECTIONS,
            "statistic",
            f"statistic {statistic_id} has been corrected {corrections:,} times already; a "
            f"statistic may be corrected at most {MAX_STATISTIC_CORRECTIONS:,} times",
        )
        _check_change_names(problems, changes, STATISTIC_CORRECTABLE)
        reason = check_text(problems, "reason", reason, MAX_TEXT)
        checked_evidence = check_evidence_shape(problems, evidence, required=False)
        current = _statistic_as_written(statistic)
        with problems.within("changes."):
            fields = _check_statistic(
                problems, parties, StatisticChanges(**{**current, **changes}), recorded_on
            )
        corrected = {name: fields[name] for name in changes if name in fields}
        problems.require(
            not corrected
            or any(getattr(statistic, name) != value for name, value in corrected.items()),
            "changes",
            "the changes leave the statistic as it is",
        )
        _require_evidence_of_change(
            problems,
            [
                name
                for name in FIGURE_FIELDS
                if name in corrected and getattr(statistic, name) != corrected[name]
            ],
            checked_evidence,
            "the figure",
        )
        problems.raise_if_any()
        self.trigger_event(
            self.StatisticCorrected,
            recorded_by=recorded_by,
            statistic_id=statistic_id,
            changes=corrected,
            reason=reason,
            evidence=checked_evidence,
        )

    def retract_statistic(self, *, statistic_id: UUID, reason: str, recorded_by: str) -> None:
        statistic = self.statistics[statistic_id]
        problems = Problems()
        problems.require(not statistic.retracted, "statistic", "it is already retracted")
        reason = check_text(problems, "reason", reason, MAX_TEXT)
        problems.raise_if_any()
        self.trigger_event(
            self.StatisticRetracted,
            recorded_by=recorded_by,
            statistic_id=statistic_id,
            reason=reason,
        )

    def correct(
        self,
        *,
        parties: Sequence[str],
        changes: SessionRecordChanges,
        reason: str,
        evidence: Sequence[Evidence],
        recorded_by: str,
        recorded_on: date,
    ) -> None:
        """Corrects the session's own record; the whole corrected record is checked again."""
        problems = Problems()
        self._require_room(
            problems,
            self.corrections,
            MAX_SESSION_CORRECTIONS,
            "has been corrected {n} times",
            "be corrected {n} times",
        )
        _check_change_names(problems, changes, SESSION_CORRECTABLE)
        reason = check_text(problems, "reason", reason, MAX_TEXT)
        checked_evidence = check_evidence_shape(problems, evidence, required=False)
        merged: dict[str, Any] = {**self._record_as_written(), **changes}
        with problems.within("changes."):
            if self.status == "convened":
                fields = _check_convened(
                    problems,
                    parties,
                    merged["kind"],
                    merged["format"],
                    merged["start"],
                    merged["end"],
                    merged["place"],
                    merged["co_chairs"],
                    merged["topics"],
                    merged["summary"],
                    recorded_on,
                )
                fields["planned"] = parse_partial_date(problems, "planned", merged["planned"])
            else:
                for name in ("format", "start", "end", "co_chairs", "topics", "summary"):
                    problems.require(
                        name not in changes,
                        name,
                        f"a {self.status} session has no {name.replace('_', '-')} to correct",
                    )
                check_choice(problems, "kind", merged["kind"], SESSION_KINDS)
                problems.require(merged["planned"] is not None, "planned", "must not be empty")
                place = check_place(problems, "place", merged["place"], parties)
                fields = {
                    "kind": merged["kind"],
                    "planned": parse_partial_date(problems, "planned", merged["planned"]),
                    "place": place,
                }
        corrected = {name: fields[name] for name in changes if name in fields}
        problems.require(
            not corrected or any(getattr(self, name) != value for name, value in corrected.items()),
            "changes",
            "the changes leave the session's record as it is",
        )
        _require_evidence_of_change(
            problems,
            [
                name
                for name in SESSION_DATE_FIELDS
                if name in corrected and getattr(self, name) != corrected[name]
            ],
            checked_evidence,
            "the session's dates",
        )
        problems.raise_if_any()
        self.trigger_event(
            self.Corrected,
            recorded_by=recorded_by,
            changes=corrected,
            reason=reason,
            evidence=checked_evidence,
        )

    # --- helpers --------------------------------------------------------------------------------

    def _require_status(
        self, problems: Problems, allowed: tuple[SessionStatus, ...], action: str
    ) -> None:
        problems.require(
            self.status in allowed,
            "session",
            f"cannot {action} a {self.status} session (it must be {' or '.join(allowed)})",
        )

    def _require_room(
        self, problems: Problems, held: int, most: int, done: str, allowed: str
    ) -> None:
        """Refuses to grow what the session holds ``held`` of past ``most``: "session
        az-ru-economic/22 cites 20 declarations already; a session may cite at most 20". A
        session that holds more (recorded before the bound) keeps it, read and corrected as
        before: only what would add to it is refused."""
        problems.require(
            held < most,
            "session",
            f"session {self.reference} {done.format(n=f'{held:,}')} already; "
            f"a session may {allowed.format(n=f'at most {most:,}')}",
        )

    def _record_as_written(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "format": self.format,
            "start": _written(self.start),
            "end": _written(self.end),
            "planned": _written(self.planned),
            "place": self.place,
            "co_chairs": list(self.co_chairs),
            "topics": list(self.topics),
            "summary": self.summary,
        }

    @property
    def reference(self) -> str:
        """The session's public name: ``az-ru-economic/22``."""
        return f"{self.commission}/{self.key}"

    @property
    def date(self) -> PartialDate | None:
        """The date the session concerns: when held, else when planned."""
        return self.start or self.planned

    @property
    def active_statistics(self) -> list[Statistic]:
        return [s for s in self.statistics.values() if not s.retracted]


def corrected_evidence(
    evidence: Sequence[Evidence],
    superseded: Sequence[Evidence],
    changes: Mapping[str, Any],
    given: Sequence[Evidence],
) -> tuple[tuple[Evidence, ...], tuple[Evidence, ...]]:
    """A statistic's evidence and superseded evidence after a correction: one that changes
    the figure with evidence of its own replaces the evidence, which is kept apart as
    superseded; any other adds what it brings to the evidence."""
    if given and any(name in changes for name in FIGURE_FIELDS):
        return tuple(given), (*superseded, *evidence)
    return (*evidence, *given), tuple(superseded)


def _require_evidence_of_change(
    problems: Problems, changed: Sequence[str], evidence: Sequence[Evidence], what: str
) -> None:
    """A correction of what a fact says (a figure, a date) must cite what says it now: asked
    of a correction that is otherwise sound, so that a refused one is told what is wrong."""
    problems.require(
        bool(problems) or not changed or bool(evidence),
        "evidence",
        f"a correction of {', '.join(changed)} changes {what}: it needs evidence of its own, "
        "at least one {source, quote} that says it so",
    )


def _written(value: PartialDate | Period | None) -> str | None:
    return None if value is None else str(value)


def _check_key(
    problems: Problems, key: str | None, ordinal: int | None, kind: str, when: str | None
) -> str:
    """The session key: its ordinal for a numbered session, else a slug (derived if left out)."""
    if ordinal is not None:
        if not problems.require(
            isinstance(ordinal, int)
            and not isinstance(ordinal, bool)
            and MIN_ORDINAL <= ordinal <= MAX_ORDINAL,
            "ordinal",
            f"must be a whole number from {MIN_ORDINAL} to {MAX_ORDINAL:,}",
        ):
            return key or "invalid"
        if key is not None and key != str(ordinal):
            problems.add("key", f"a numbered session's key is its ordinal, {ordinal}")
        return str(ordinal)
    if key is None:
        derived = f"{when}-{kind}".lower().replace("_", "-")
        return derived if SESSION_KEY.match(derived) else "invalid"
    if not SESSION_KEY.match(key):
        problems.add(
            "key", f"{shown(key)} is not a session key: lower-case letters, digits and '-'"
        )
    elif key.isdigit():
        problems.add("key", "a number as key is reserved for numbered sessions: give the ordinal")
    return key


def _check_convened(
    problems: Problems,
    parties: Sequence[str],
    kind: str,
    format: str | None,
    start: str | None,
    end: str | None,
    place: Place | None,
    co_chairs: Sequence[Representative],
    topics: Sequence[str],
    summary: str | None,
    recorded_on: date,
) -> dict[str, Any]:
    """Checks the record of a held session and returns it as the event stores it."""
    check_choice(problems, "kind", kind, SESSION_KINDS)
    if problems.require(format is not None, "format", "a convened session needs its format"):
        assert format is not None
        check_choice(problems, "format", format, SESSION_FORMATS)
    problems.require(start is not None, "start", "a convened session needs its start date")
    started = parse_partial_date(problems, "start", start, not_after=recorded_on)
    ended = parse_partial_date(problems, "end", end, not_after=recorded_on)
    check_end_not_before_start(problems, "end", started, ended)
    place = check_place(problems, "place", place, parties)
    checked_co_chairs = check_representatives(problems, "co_chairs", co_chairs, parties)
    problems.require(len(topics) <= len(TOPICS), "topics", "too many topics")
    for index, topic in enumerate(topics[: len(TOPICS)]):
        check_choice(problems, f"topics[{index}]", topic, TOPICS)
    problems.require(len(set(topics)) == len(topics), "topics", "a topic is given twice")
    summary = check_optional_text(problems, "summary", summary, MAX_TEXT)
    return {
        "kind": kind,
        "format": format,
        "start": started,
        "end": ended,
        "place": place,
        "co_chairs": checked_co_chairs,
        "topics": list(topics),
        "summary": summary,
    }


def _check_change_names(
    problems: Problems, changes: Mapping[str, Any], allowed: Sequence[str]
) -> None:
    problems.require(bool(changes), "changes", "name at least one field to change")
    for name in list(changes)[:MAX_LIST]:
        problems.require(
            name in allowed,
            f"changes.{field_key(name)}",
            f"cannot be corrected; correctable fields: {', '.join(allowed)}",
        )


def _statistic_as_written(statistic: Statistic) -> StatisticChanges:
    return StatisticChanges(
        measure=statistic.measure,
        value_kind=statistic.value_kind,
        value=str(statistic.value),
        unit=statistic.unit,
        qualifier=statistic.qualifier,
        reporter=statistic.reporter,
        partner=statistic.partner,
        period=_written(statistic.period),
        stated_by=statistic.stated_by,
        remarks=statistic.remarks,
    )


def _check_statistic(
    problems: Problems, parties: Sequence[str], given: StatisticChanges, recorded_on: date
) -> dict[str, Any]:
    """Checks a statistic's fields as a whole and returns them as the event stores them."""
    measure = given["measure"]
    value_kind = given["value_kind"]
    check_choice(problems, "measure", measure, MEASURES)
    kind_known = check_choice(problems, "value_kind", value_kind, VALUE_KINDS)
    check_choice(problems, "qualifier", given["qualifier"], QUALIFIERS)
    value = parse_decimal(problems, "value", given["value"])
    if value is not None and kind_known:
        check_value_for_kind(problems, "value", value, value_kind)
    if kind_known:
        check_unit_for_kind(problems, "unit", given["unit"], value_kind)
    reporter, partner, stated_by = given["reporter"], given["partner"], given["stated_by"]
    for field, party in (("reporter", reporter), ("partner", partner), ("stated_by", stated_by)):
        if party is not None:
            check_party(problems, field, party, parties)
    if reporter is not None and reporter == partner:
        problems.add("partner", "the partner must differ from the reporter")
    if measure == "trade_turnover" and (reporter is None or partner is None):
        problems.add(
            "reporter" if reporter is None else "partner",
            "trade turnover is between two parties: give both reporter and partner",
        )
    period_text = given["period"]
    if period_text is None and value_kind not in UNDATED_VALUE_KINDS:
        problems.add("period", f"a {value_kind} needs the period it concerns")
    period = parse_period(problems, "period", period_text, not_after=recorded_on)
    remarks = check_optional_text(problems, "remarks", given["remarks"], MAX_TEXT)
    return {
        "measure": measure,
        "value_kind": value_kind,
        "value": value,
        "unit": given["unit"],
        "qualifier": given["qualifier"],
        "reporter": reporter,
        "partner": partner,
        "period": period,
        "stated_by": stated_by,
        "remarks": remarks,
    }
