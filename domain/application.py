"""The application service: one method per use case of the record.

Each command loads what it needs, lets the aggregate decide, and saves the new events in one
atomic write. Every event carries ``recorded_by``; the event store's optimistic concurrency
makes two writers changing one aggregate at once collide, and the loser is refused whole.

Commands can also be recorded together (``Records.record_together``): run one after another,
each seeing what those before it decided, with everything they decided stored in one
transaction — one table lock and one commit for many facts — and each answered as if it had
run alone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext, suppress
from contextvars import ContextVar
from copy import deepcopy
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Generic, TypeVar, cast
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Notification,
    OperationalError,
    Recording,
)

from domain.base import catalogue_name
from domain.commission import Commission
from domain.errors import (
    DomainError,
    FieldProblem,
    InvalidCommandError,
    UnknownCommissionError,
    UnknownSessionError,
    UnknownSourceError,
    UnknownStatisticError,
)
from domain.ids import commission_id, session_id, source_id
from domain.session import Session, SessionRecordChanges, StatisticChanges
from domain.source import Source
from domain.statistic_index import StatisticIndex
from domain.transcodings import TRANSCODINGS
from domain.values import (
    MAX_EVIDENCE,
    MAX_QUOTE,
    Evidence,
    EvidenceStatus,
    Place,
    Representative,
    normalize,
)

TAggregate = TypeVar("TAggregate", bound=Aggregate)


class ConflictError(DomainError):
    """Another write changed the same aggregate first; nothing of this one was stored."""


class StaleVersionError(DomainError):
    """The aggregate is no longer at the version the writer expected (``If-Match``)."""

    def __init__(self, expected: int, actual: int | None) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"expected version {expected}, but it is at version {actual}"
            if actual is not None
            else f"expected version {expected}, but another write changed it first"
        )


@dataclass(frozen=True, slots=True)
class Recorded(Generic[TAggregate]):
    """What a command stored: the aggregate as it now stands, and the log position of the
    last event written."""

    aggregate: TAggregate
    position: int

    @property
    def aggregate_id(self) -> UUID:
        return self.aggregate.id

    @property
    def version(self) -> int:
        return self.aggregate.version


@dataclass(frozen=True, slots=True)
class StatisticRecorded(Recorded[Session]):
    statistic_id: UUID


# Values for the recorder, written in the same transaction as the events of a command: named
# tuples of rows, so that the rows of commands recorded together are joined name by name.
RecorderExtras = Callable[[list[tuple[UUID, int]]], dict[str, tuple[Any, ...]]]
_recorder_extras: ContextVar[RecorderExtras | None] = ContextVar("recorder_extras", default=None)


@dataclass(frozen=True, slots=True)
class Command:
    """One write to record: ``run`` calls one command method of ``Records`` and returns what it
    answered; ``extras`` are stored with its events (see ``Records.recording_with``)."""

    run: Callable[[], Recorded[Any]]
    extras: RecorderExtras | None = None


@dataclass
class _Group:
    """What commands recorded together by ``records`` have decided and not yet stored: their
    new events in order, each aggregate as the last of them left it, the recorder's extras."""

    records: Records
    events: list[Any] = field(default_factory=list)
    aggregates: dict[UUID, Aggregate] = field(default_factory=dict)
    extras: dict[str, tuple[Any, ...]] = field(default_factory=dict)

    def add(self, aggregates: Sequence[Aggregate], extras: Mapping[str, tuple[Any, ...]]) -> None:
        for aggregate in aggregates:
            self.events.extend(aggregate.collect_events())
            self.aggregates[aggregate.id] = aggregate
        for name, rows in extras.items():
            self.extras[name] = self.extras.get(name, ()) + tuple(rows)

    def mark(self) -> tuple[int, dict[UUID, Aggregate], dict[str, tuple[Any, ...]]]:
        return len(self.events), dict(self.aggregates), dict(self.extras)

    def undo(self, mark: tuple[int, dict[UUID, Aggregate], dict[str, tuple[Any, ...]]]) -> None:
        """Forgets what was decided since ``mark``."""
        end, self.aggregates, self.extras = mark
        del self.events[end:]


_group: ContextVar[_Group | None] = ContextVar("group", default=None)


class _CannotTellError(Exception):
    """Whether a group's events were stored cannot be told from the log."""


def today() -> date:
    """The day, in UTC, on which a fact is being recorded."""
    return datetime.now(UTC).date()


def _mutated(aggregate: Any, events: Iterable[Any]) -> Any:
    """An aggregate with events applied in order: the library's projector without its
    per-event runtime protocol check, which cost more than applying the event."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def _characters(source: Source) -> int:
    """The characters a remembered source holds: its text, and the copy searched for quotes."""
    return 2 * len(source.text or "")


class Records(Application[UUID]):
    """The record of intergovernmental commissions."""

    name = "diprec"
    # Sources and commissions' parties never change once recorded, so they are cached: at
    # most so many sources, holding at most so many characters of text in all (a source's
    # text is searched in a copy of its own, with white space collapsed, so it counts twice):
    # a recorder registering sources of a megabyte cannot make the service hold them all.
    source_cache_size: ClassVar[int] = 256
    source_cache_characters: ClassVar[int] = 32_000_000
    # How many events stored by other writers a group reads to learn which aggregates they
    # changed; after more, it brings every aggregate it uses up to date from the log.
    catch_up_limit: ClassVar[int] = 500

    # A source without text may have it registered by another process at any moment: it is
    # remembered only so long, then read again.
    textless_source_seconds: ClassVar[float] = 1.0

    def __init__(
        self, env: Mapping[str, str] | None = None, *, require_source_text: bool | None = None
    ) -> None:
        super().__init__(env)
        if require_source_text is None:
            flag = (self.env.get("DIPREC_REQUIRE_SOURCE_TEXT") or "").strip().lower()
            require_source_text = flag in ("1", "true", "yes", "on")
        # Whether a quote of a source without registered text is refused, not taken unverified.
        self.require_source_text = require_source_text
        # Each remembered source with the moment (``time.monotonic``) it was read.
        self._sources: dict[str, tuple[Source, float]] = {}
        self._source_characters = 0
        self._sources_lock = threading.Lock()
        self._parties: dict[str, list[str]] = {}
        # Aggregates whose cached state is known to include every event up to log position
        # ``_known``: commands recorded together use them without reading the log.
        self._current: set[UUID] = set()
        self._known = 0

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in TRANSCODINGS:
            transcoder.register(transcoding)

    # --- sources and commissions ---------------------------------------------------------------

    def register_source(
        self,
        *,
        id: str,
        title: str,
        publisher: str,
        language: str,
        url: str | None = None,
        published_on: str | None = None,
        text: str | None = None,
        recorded_by: str,
    ) -> Recorded[Source]:
        source = Source.register(
            slug=id,
            title=title,
            publisher=publisher,
            language=language,
            url=url,
            published_on=published_on,
            text=text,
            recorded_by=recorded_by,
            recorded_on=today(),
        )
        self._refuse_duplicate(source.id, "id", f"source {id!r} is already registered")
        return self._store(source)

    def register_source_text(self, slug: str, *, text: str, recorded_by: str) -> Recorded[Source]:
        """Registers the text of a source registered without one; the read models then check
        every quote of it recorded before."""
        source = self._get(Source, source_id(slug))
        if source is None:
            raise UnknownSourceError(f"no source {slug!r} is registered")
        source.register_text(text, recorded_by=recorded_by)
        recorded = self._store(source)
        self._forget_source(slug)
        return recorded

    def establish_commission(
        self,
        *,
        id: str,
        parties: Sequence[str],
        names: Mapping[str, str],
        established_on: str | None = None,
        mandate: str | None = None,
        recorded_by: str,
    ) -> Recorded[Commission]:
        commission = Commission.establish(
            slug=id,
            parties=parties,
            names=names,
            established_on=established_on,
            mandate=mandate,
            recorded_by=recorded_by,
            recorded_on=today(),
        )
        self._refuse_duplicate(commission.id, "id", f"commission {id!r} is already established")
        return self._store(commission)

    def appoint_co_chair(
        self,
        commission: str,
        *,
        party: str,
        name: str,
        title: str,
        since: str | None = None,
        evidence: Sequence[Evidence],
        recorded_by: str,
        expected_version: int | None = None,
    ) -> Recorded[Commission]:
        aggregate = self.commission(commission)
        self._check_version(aggregate, expected_version)
        with self._verified(evidence):
            aggregate.appoint_co_chair(
                party=party,
                name=name,
                title=title,
                since=since,
                evidence=evidence,
                recorded_by=recorded_by,
                recorded_on=today(),
            )
        return self._store(aggregate, expected_version=expected_version)

    def end_co_chair_tenure(
        self,
        commission: str,
        *,
        party: str,
        name: str,
        until: str,
        evidence: Sequence[Evidence],
        recorded_by: str,
        expected_version: int | None = None,
    ) -> Recorded[Commission]:
        aggregate = self.commission(commission)
        self._check_version(aggregate, expected_version)
        with self._verified(evidence):
            aggregate.end_co_chair_tenure(
                party=party,
                name=name,
                until=until,
                evidence=evidence,
                recorded_by=recorded_by,
                recorded_on=today(),
            )
        return self._store(aggregate, expected_version=expected_version)

    # --- sessions --------------------------------------------------------------------------------

    def schedule_session(
        self,
        commission: str,
        *,
        key: str | None = None,
        ordinal: int | None = None,
        kind: str,
        planned: str | None,
        place: Place | None = None,
        evidence: Sequence[Evidence],
        recorded_by: str,
    ) -> Recorded[Session]:
        parties = self.parties(commission)
        with self._verified(evidence):
            session = Session.schedule(
                commission=commission,
                parties=parties,
                key=key,
                ordinal=ordinal,
                kind=kind,
                planned=planned,
                place=place,
                evidence=evidence,
                recorded_by=recorded_by,
            )
        self._refuse_duplicate_session(session)
        return self._store(session)

    def record_convened_session(
        self,
        commission: str,
        *,
        key: str | None = None,
        ordinal: int | None = None,
        kind: str,
        format: str | None,
        start: str | None,
        end: str | None = None,
        place: Place | None = None,
        co_chairs: Sequence[Representative] = (),
        topics: Sequence[str] = (),
        summary: str | None = None,
        evidence: Sequence[Evidence],
        recorded_by: str,
    ) -> Recorded[Session]:
        """Records a session that was held and had not been recorded as scheduled."""
        parties = self.parties(commission)
        with self._verified(evidence):
            session = Session.record_convened(
                commission=commission,
                parties=parties,
                key=key,
                ordinal=ordinal,
                kind=kind,
                format=format,
                start=start,
                end=end,
                place=place,
                co_chairs=co_chairs,
                topics=topics,
                summary=summary,
                evidence=evidence,
                recorded_by=recorded_by,
                recorded_on=today(),
            )
        self._refuse_duplicate_session(session)
        return self._store(session)

    def convene_session(
        self,
        commission: str,
        key: str,
        *,
        kind: str | None = None,
        format: str | None,
        start: str | None,
        end: str | None = None,
        place: Place | None = None,
        co_chairs: Sequence[Representative] = (),
        topics: Sequence[str] = (),
        summary: str | None = None,
        evidence: Sequence[Evidence],
        recorded_by: str,
        expected_version: int | None = None,
    ) -> Recorded[Session]:
        """Records that a scheduled or postponed session was held."""
        parties = self.parties(commission)
        session = self.session(commission, key)
        self._check_version(session, expected_version)
        with self._verified(evidence):
            session.convene(
                parties=parties,
                kind=kind,
                format=format,
                start=start,
                end=end,
                place=place,
                co_chairs=co_chairs,
                topics=topics,
                summary=summary,
                evidence=evidence,
                recorded_by=recorded_by,
                recorded_on=today(),
            )
        return self._store(session, expected_version=expected_version)

    def postpone_session(
        self,
        commission: str,
        key: str,
        *,
        reason: str,
        planned: str | None = None,
        evidence: Sequence[Evidence],
        recorded_by: str,
        expected_version: int | None = None,
    ) -> Recorded[Session]:
        session = self.session(commission, key)
        self._check_version(session, expected_version)
        with self._verified(evidence):
            session.postpone(
                reason=reason, planned=planned, evidence=evidence, recorded_by=recorded_by
            )
        return self._store(session, expected_version=expected_version)

    def cancel_session(
        self,
        commission: str,
        key: str,
        *,
        reason: str,
        evidence: Sequence[Evidence],
        recorded_by: str,
        expected_version: int | None = None,
    ) -> Recorded[Session]:
        session = self.session(commission, key)
        self._check_version(session, expected_version)
        with self._verified(evidence):
            session.cancel(reason=reason, evidence=evidence, recorded_by=recorded_by)
        return self._store(session, expected_version=expected_version)

    def correct_session(
        self,
        commission: str,
        key: str,
        *,
        changes: SessionRecordChanges,
        reason: str,
        evidence: Sequence[Evidence] = (),
        recorded_by: str,
        expected_version: int | None = None,
    ) -> Recorded[Session]:
        parties = self.parties(commission)
        session = self.session(commission, key)
        self._check_version(session, expected_version)
        with self._verified(evidence):
            session.correct(
                parties=parties,
                changes=changes,
                reason=reason,
                evidence=evidence,
                recorded_by=recorded_by,
                recorded_on=today(),
            )
        return self._store(session, expected_version=expected_version)

    # --- facts recorded at sessions --------------------------------------------------------------

    def sign_protocol(
        self,
        commission: str,
        key: str,
        *,
        title: str | None = None,
        signed_on: str | None = None,
        signatories: Sequence[Representative],
        evidence: Sequence[Evidence],
        recorded_by: str,
        expected_version: int | None = None,
    ) -> Recorded[Session]:
        parties = self.parties(commission)
        session = self.session(commission, key)
        self._check_version(session, expected_version)
        with self._verified(evidence):
            session.sign_protocol(
                parties=parties,
                title=title,
                signed_on=signed_on,
                signatories=signatories,
                evidence=evidence,
                recorded_by=recorded_by,
                recorded_on=today(),
            )
        return self._store(session, expected_version=expected_version)

    def reference_declaration(
        self,
        commission: str,
        key: str,
        *,
        title: str,
        dated: str,
        characterization: str | None = None,
        evidence: Sequence[Evidence],
        recorded_by: str,
        expected_version: int | None = None,
    ) -> Recorded[Session]:
        session = self.session(commission, key)
        self._check_version(session, expected_version)
        with self._verified(evidence):
            session.reference_declaration(
                title=title,
                dated=dated,
                characterization=characterization,
                evidence=evidence,
                recorded_by=recorded_by,
                recorded_on=today(),
            )
        return self._store(session, expected_version=expected_version)

    def report_statistic(
        self,
        commission: str,
        key: str,
        *,
        measure: str,
        value_kind: str,
        value: str,
        unit: str,
        qualifier: str,
        reporter: str | None = None,
        partner: str | None = None,
        period: str | None = None,
        stated_by: str | None = None,
        remarks: str | None = None,
        evidence: Sequence[Evidence],
        recorded_by: str,
        expected_version: int | None = None,
    ) -> StatisticRecorded:
        parties = self.parties(commission)
        session = self.session(commission, key)
        self._check_version(session, expected_version)
        statistic_id = uuid4()
        with self._verified(evidence):
            session.report_statistic(
                statistic_id=statistic_id,
                parties=parties,
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
                evidence=evidence,
                recorded_by=recorded_by,
                recorded_on=today(),
            )
        index = StatisticIndex.locate(statistic_id, session, recorded_by=recorded_by)
        recorded = self._store(session, index, expected_version=expected_version)
        return StatisticRecorded(recorded.aggregate, recorded.position, statistic_id)

    def correct_statistic(
        self,
        statistic_id: UUID,
        *,
        changes: StatisticChanges,
        reason: str,
        evidence: Sequence[Evidence] = (),
        recorded_by: str,
        expected_version: int | None = None,
    ) -> Recorded[Session]:
        session = self.session_of_statistic(statistic_id)
        parties = self.parties(session.commission)
        self._check_version(session, expected_version)
        with self._verified(evidence):
            session.correct_statistic(
                statistic_id=statistic_id,
                parties=parties,
                changes=changes,
                reason=reason,
                evidence=evidence,
                recorded_by=recorded_by,
                recorded_on=today(),
            )
        return self._store(session, expected_version=expected_version)

    def retract_statistic(
        self,
        statistic_id: UUID,
        *,
        reason: str,
        recorded_by: str,
        expected_version: int | None = None,
    ) -> Recorded[Session]:
        session = self.session_of_statistic(statistic_id)
        self._check_version(session, expected_version)
        session.retract_statistic(statistic_id=statistic_id, reason=reason, recorded_by=recorded_by)
        return self._store(session, expected_version=expected_version)

    def recorded_earlier(self, written: Sequence[tuple[UUID, int]], position: int) -> Recorded[Any]:
        """What an earlier write answered: its aggregates as they stood right after it."""
        main_id, version = written[0]
        main: Aggregate = self.repository.get(main_id, version=version)
        for stream, _ in written[1:]:
            index = self._get(StatisticIndex, stream)
            if index is not None and isinstance(main, Session):
                return StatisticRecorded(main, position, index.id)
        return Recorded(main, position)

    # --- queries of the aggregates themselves ----------------------------------------------------

    def source(self, slug: str) -> Source:
        """The source as stored (remembered within bounds: one with text never changes, one
        without is read again after ``textless_source_seconds``)."""
        with self._sources_lock:
            cached = self._sources.get(slug)
        if cached is not None:
            source, read_at = cached
            if source.text is not None or (
                time.monotonic() - read_at < self.textless_source_seconds
            ):
                return source
        read_at = time.monotonic()
        found = self._get(Source, source_id(slug))
        if found is None:
            raise UnknownSourceError(f"no source {slug!r} is registered")
        source = found
        if self._staged(source.id) is not None:
            return source  # not stored yet, so not remembered
        if self.repository.cache is not None:
            # Remembered here alone, within its bounds, not among the aggregates too.
            with suppress(KeyError):
                self.repository.cache.get(source.id, evict=True)
        size = _characters(source)
        with self._sources_lock:
            previous = self._sources.pop(slug, None)
            if previous is not None:
                self._source_characters -= _characters(previous[0])
            while self._sources and (
                len(self._sources) >= self.source_cache_size
                or self._source_characters + size > self.source_cache_characters
            ):
                oldest = self._sources.pop(next(iter(self._sources)))[0]
                self._source_characters -= _characters(oldest)
            if size <= self.source_cache_characters:
                self._sources[slug] = (source, read_at)
                self._source_characters += size
        return source

    def check_evidence(self, item: Evidence) -> tuple[EvidenceStatus, tuple[int, int] | None]:
        """How a quote stands against its source's text as now registered: ``verified`` (with
        where it lies in the text), ``unverified`` (the source has no text) or ``mismatch``."""
        try:
            source = self.source(item.source)
        except UnknownSourceError:
            return "unverified", None
        if source.text is None:
            return "unverified", None
        span = source.locate(item.quote)
        return ("mismatch", None) if span is None else ("verified", span)

    def source_as_of(self, slug: str, as_of: datetime) -> Source | None:
        """The source as the record had it at ``as_of`` (None if not registered by then)."""
        stream = source_id(slug)
        source: Any = None
        for event in self.repository.event_store.get(stream):
            stored: Any = event
            if stored.timestamp > as_of:
                break
            source = stored.mutate(source)
        return cast(Source | None, source)

    def _forget_source(self, slug: str) -> None:
        with self._sources_lock:
            previous = self._sources.pop(slug, None)
            if previous is not None:
                self._source_characters -= _characters(previous[0])

    def commission(self, slug: str) -> Commission:
        commission = self._get(Commission, commission_id(slug))
        if commission is None:
            raise UnknownCommissionError.of(slug)
        if self._staged(commission.id) is None:  # remembered once stored
            self._parties.setdefault(slug, list(commission.parties))
        return commission

    def parties(self, commission: str) -> list[str]:
        """The commission's two parties, which never change once it is established."""
        parties = self._parties.get(commission)
        if parties is None:
            parties = self.commission(commission).parties
        return list(parties)

    def session(self, commission: str, key: str) -> Session:
        session = self._get(Session, session_id(commission, key))
        if session is None:
            self.parties(commission)  # an unknown commission is named as such
            raise UnknownSessionError.of(commission, key)
        return session

    def session_of_statistic(self, statistic_id: UUID) -> Session:
        index = self._get(StatisticIndex, statistic_id)
        if index is None:
            raise UnknownStatisticError.of(statistic_id)
        return self.session(index.commission, index.session_key)

    def record_together(self, commands: Sequence[Command]) -> list[Recorded[Any] | Exception]:
        """Records the commands as if one after another, storing every fact they decide in one
        transaction; answers, in order, what each answered or the error that refused it.

        Each command sees what those before it decided, and is answered as if it had run
        alone: its aggregate as it left it, and the log position of its own last event. One
        that is refused (bad input, a stale ``If-Match``) stores nothing and changes nothing
        for the others. If the transaction is refused because another process changed one of
        the same aggregates first (or took the same idempotency key), nothing of it was
        stored, and each command runs again alone, so that only those that truly collide are
        refused; unless the group's own events are in the log (a commit that succeeded as its
        connection was lost), when it is answered as stored. Any other failure to store (the
        database unreachable, say) refuses all with it, as does a group whose storing cannot
        be told (``OperationalError``: the service answers 503, retry with the same key).
        """
        group = _Group(self)
        decided: list[tuple[int, int, int]] = []  # command, its first event, the one after
        outcomes: list[Recorded[Any] | Exception] = []
        since = self._catch_up()
        token = _group.set(group)
        try:
            for index, command in enumerate(commands):
                mark = group.mark()
                try:
                    outcomes.append(self._run(command))
                except Exception as error:
                    group.undo(mark)
                    outcomes.append(error)
                else:
                    decided.append((index, mark[0], len(group.events)))
        finally:
            _group.reset(token)
        if not decided:
            return outcomes
        try:
            recordings = self._save_group(group)
        except IntegrityError as error:
            self._current.difference_update(group.aggregates)
            try:
                earlier = self._stored_earlier(group, since)
            except _CannotTellError:
                unknown = OperationalError(
                    f"whether a group of writes was stored cannot be told ({error})"
                )
                for index, _, _ in decided:
                    outcomes[index] = unknown
                return outcomes
            if earlier is None:
                for index, _, _ in decided:
                    outcomes[index] = self._alone(commands[index])
                return outcomes
            recordings = earlier
        except Exception as error:
            self._current.difference_update(group.aggregates)
            for index, _, _ in decided:
                outcomes[index] = error
            return outcomes
        else:
            self._remember(group, recordings)
        for index, first, end in decided:
            recorded = outcomes[index]
            assert isinstance(recorded, Recorded)
            positions = (recording.notification.id for recording in recordings[first:end])
            outcomes[index] = replace(recorded, position=max(positions, default=0))
        return outcomes

    @contextmanager
    def recording_with(self, extras: RecorderExtras) -> Iterator[None]:
        """Within this block, each write also passes ``extras(written)`` to the recorder,
        where ``written`` lists the (stream, version) of the aggregates it saves; the recorder
        stores them in the events' transaction (an idempotency claim, say)."""
        token = _recorder_extras.set(extras)
        try:
            yield
        finally:
            _recorder_extras.reset(token)

    # --- internals ------------------------------------------------------------------------------

    def _run(self, command: Command) -> Recorded[Any]:
        with self.recording_with(command.extras) if command.extras else nullcontext():
            return command.run()

    def _alone(self, command: Command) -> Recorded[Any] | Exception:
        try:
            return self._run(command)
        except Exception as error:
            return error

    def _save_group(self, group: _Group) -> list[Recording[UUID]]:
        """Stores what a group decided in one transaction, as ``save`` stores one command's."""
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        processing.events.extend(group.events)
        processing.aggregates.update(group.aggregates)
        processing.saved_kwargs.update(group.extras)
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        return recordings

    def _stored_earlier(self, group: _Group, since: int) -> list[Recording[UUID]] | None:
        """The group's events as stored, if an attempt to store them had committed although
        it reported a failure (the connection lost at commit, and the library's retry then
        refused as a duplicate); None if they are not stored. Raises ``_CannotTellError`` when
        too many events were stored since ``since`` to look through."""
        head = self.recorder.max_notification_id() or 0
        if head - since > self.catch_up_limit + len(group.events):
            raise _CannotTellError
        wanted = {
            (event.originator_id, event.originator_version): index
            for index, event in enumerate(group.events)
        }
        found: dict[int, Notification] = {}
        for notification in self.recorder.select_notifications(since + 1, head - since + 1):
            index = wanted.get((notification.originator_id, notification.originator_version))
            if index is not None:
                found[index] = notification
        if 0 not in found or found[0].state != self.mapper.to_stored_event(group.events[0]).state:
            return None  # another writer's events, or none: this group was not stored
        if len(found) != len(group.events):
            raise _CannotTellError
        return [Recording(event, found[index]) for index, event in enumerate(group.events)]

    def _catch_up(self) -> int:
        """Forgets that an aggregate is current if another writer has stored events of it
        since this record last looked (one query, instead of one per command); answers the
        log's last position."""
        head = self.recorder.max_notification_id() or 0
        if self.repository.cache is None:
            return head
        if head - self._known > self.catch_up_limit:
            self._current.clear()
        elif head > self._known:
            for notification in self.recorder.select_notifications(
                self._known + 1, head - self._known, stop=head
            ):
                self._current.discard(notification.originator_id)
        self._known = head
        return head

    def _remember(self, group: _Group, recordings: Sequence[Recording[UUID]]) -> None:
        """Caches the aggregates as a stored group left them, so the next group uses them
        without reading the log."""
        cache = self.repository.cache
        if cache is None:
            return
        for aggregate_id, aggregate in group.aggregates.items():
            if isinstance(aggregate, Source):
                continue  # remembered, if at all, among the sources, within their bounds
            cache.put(aggregate_id, deepcopy(aggregate))  # not the answers' own objects
            self._current.add(aggregate_id)
        first, last = recordings[0].notification.id, recordings[-1].notification.id
        if first == self._known + 1:  # else another writer stored events in between
            self._known = last

    def _get(self, kind: type[TAggregate], aggregate_id: UUID) -> TAggregate | None:
        staged = self._staged(aggregate_id)
        if staged is not None:
            # A copy: the command that left it so is answered with it as it left it.
            aggregate: Aggregate | None = deepcopy(staged)
        else:
            aggregate = self._load(aggregate_id)
        if not isinstance(aggregate, kind):
            return None
        return aggregate

    def _load(self, aggregate_id: UUID) -> Aggregate | None:
        """The aggregate as stored: in a group, from the cache if it is known to be current,
        else brought up to date from the log (and then known to be current)."""
        in_group = self._group() is not None
        cache = self.repository.cache
        if in_group and cache is not None and aggregate_id in self._current:
            try:
                return cast(Aggregate, deepcopy(cache.get(aggregate_id)))
            except KeyError:  # evicted since
                self._current.discard(aggregate_id)
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id, projector_func=_mutated)
        except AggregateNotFoundError:
            return None
        if in_group and cache is not None:
            self._current.add(aggregate_id)
        return aggregate

    def _group(self) -> _Group | None:
        """The group this record is recording commands of, in this thread, if any."""
        group = _group.get()
        return group if group is not None and group.records is self else None

    def _staged(self, aggregate_id: UUID) -> Aggregate | None:
        """The aggregate as an earlier command of this group left it, if one changed it."""
        group = self._group()
        return None if group is None else group.aggregates.get(aggregate_id)

    @contextmanager
    def _verified(self, evidence: Sequence[Evidence]) -> Iterator[None]:
        """Checks each quote against its source's text, and reports those problems together
        with any the aggregate finds in the rest of the command."""
        problems: list[FieldProblem] = []
        # Evidence beyond its limits is refused by the command's own checks: only what could
        # be stored is looked up and searched for.
        for index, item in enumerate(evidence[:MAX_EVIDENCE]):
            try:
                source = self.source(item.source)
            except UnknownSourceError as error:
                raise UnknownSourceError(str(error), field=f"evidence[{index}].source") from None
            if source.text is None and self.require_source_text:
                problems.append(
                    FieldProblem(
                        f"evidence[{index}].source",
                        f"source {item.source!r} has no registered text, and quotes are "
                        "accepted only from sources whose text is registered "
                        "(DIPREC_REQUIRE_SOURCE_TEXT): register its text first "
                        f"(POST /sources/{item.source}/text)",
                    )
                )
                continue
            too_long = len(normalize(item.quote)) > MAX_QUOTE  # as the checks count it
            if not too_long and not source.quotes(item.quote):
                problems.append(
                    FieldProblem(
                        f"evidence[{index}].quote",
                        f"does not occur in the registered text of source {item.source!r}",
                    )
                )
        try:
            yield
        except InvalidCommandError as error:
            raise InvalidCommandError(problems + error.problems) from None
        if problems:
            raise InvalidCommandError(problems)

    def _check_version(self, aggregate: Aggregate, expected_version: int | None) -> None:
        if expected_version is not None and aggregate.version != expected_version:
            raise StaleVersionError(expected_version, aggregate.version)

    def _refuse_duplicate(self, aggregate_id: UUID, field: str, message: str) -> None:
        if self._get(Aggregate, aggregate_id) is not None:
            raise InvalidCommandError([FieldProblem(field, message)])

    def _refuse_duplicate_session(self, session: Session) -> None:
        field = "ordinal" if session.ordinal is not None else "key"
        self._refuse_duplicate(
            session.id, field, f"session {session.reference} is already recorded"
        )

    def _store(
        self, main: TAggregate, *others: Aggregate, expected_version: int | None = None
    ) -> Recorded[TAggregate]:
        """Saves the aggregates' new events atomically; ``main`` is the one answered."""
        extras = _recorder_extras.get()
        aggregates: list[Aggregate] = [main, *others]
        written = [(aggregate.id, aggregate.version) for aggregate in aggregates]
        group = self._group()
        if group is not None:
            # Stored with the rest of the group; its position is known once they are.
            group.add(aggregates, extras(written) if extras else {})
            return Recorded(main, 0)
        try:
            recordings = self.save(main, *others, **(extras(written) if extras else {}))
        except IntegrityError:
            if expected_version is not None:
                raise StaleVersionError(expected_version, None) from None
            raise ConflictError(
                "another write changed the same record at the same time; nothing was stored, "
                "and the request can be retried"
            ) from None
        position = max(recording.notification.id for recording in recordings)
        return Recorded(main, position)

    def event_type(self, event: Any) -> str:
        """The catalogue name of a stored event (``SessionConvened``)."""
        return catalogue_name(event)
