"""Where each statistic lives.

A statistic's id is assigned by the server, and its facts live in the stream of the session it
was reported at. This one-event aggregate, stored atomically with the ``StatisticReported``
event, maps the id to that session, so corrections and retractions addressed to
``/statistics/{id}`` find their stream without a read model.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.base import RecordAggregate
from domain.session import Session


class StatisticIndex(RecordAggregate):
    """Points a statistic id at the session it was reported at."""

    commission: str
    session_key: str
    session_id: UUID

    class Located(Aggregate.Created):
        CATALOGUE_NAME: ClassVar[str] = "StatisticLocated"
        recorded_by: str
        commission: str
        session_key: str
        session_id: UUID

        def apply(self, aggregate: Any) -> None:
            index: StatisticIndex = aggregate
            index.commission = self.commission
            index.session_key = self.session_key
            index.session_id = self.session_id

    @classmethod
    def locate(cls, statistic_id: UUID, session: Session, *, recorded_by: str) -> Self:
        return cls._create(
            cls.Located,
            id=statistic_id,
            recorded_by=recorded_by,
            commission=session.commission,
            session_key=session.key,
            session_id=session.id,
        )
