"""Domain errors: every refusal the record gives, each saying what was wrong and where."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One offending field of a command (``evidence[0].quote``) and what is wrong with it."""

    field: str
    message: str


class DomainError(Exception):
    """A command the record refuses. Nothing has been stored."""


class InvalidCommandError(DomainError):
    """The command breaks one or more rules of the record; each problem names its field."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))


class NotFoundError(DomainError):
    """A source, commission, session or statistic the record does not hold."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class UnknownSourceError(NotFoundError):
    pass


class UnknownCommissionError(NotFoundError):
    @classmethod
    def of(cls, commission: str) -> UnknownCommissionError:
        return cls(f"no commission {commission!r} is established")


class UnknownSessionError(NotFoundError):
    @classmethod
    def of(cls, commission: str, key: str) -> UnknownSessionError:
        return cls(f"commission {commission!r} has no session {key!r}")


class UnknownStatisticError(NotFoundError):
    @classmethod
    def of(cls, statistic_id: object) -> UnknownStatisticError:
        return cls(f"no statistic {statistic_id} is recorded")


#: How much of a value given a refusal quotes back: enough to recognise it, never a megabyte.
SHOWN = 60


def shown(value: object) -> str:
    """A given value as a refusal quotes it: its ``repr``, cut short when it is long."""
    if isinstance(value, str) and len(value) > SHOWN:
        return f"{value[:SHOWN]!r}… ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= SHOWN else f"{text[:SHOWN]}…"


def field_key(key: object) -> str:
    """A key of a given map (``names.{key}``) as part of a field's name, cut short when long."""
    text = str(key)
    return text if len(text) <= SHOWN else f"{text[:SHOWN]}…"


class Problems:
    """Collects the problems of one command, so a refusal names every bad field at once."""

    def __init__(self) -> None:
        self._items: list[FieldProblem] = []
        self._prefix = ""

    def add(self, field: str, message: str) -> None:
        self._items.append(FieldProblem(self._prefix + field, message))

    def require(self, condition: bool, field: str, message: str) -> bool:
        if not condition:
            self.add(field, message)
        return condition

    @contextmanager
    def within(self, prefix: str) -> Iterator[None]:
        """Names the problems found inside a nested value: ``within("place.")``."""
        outer = self._prefix
        self._prefix = outer + prefix
        try:
            yield
        finally:
            self._prefix = outer

    def __bool__(self) -> bool:
        return bool(self._items)

    def raise_if_any(self) -> None:
        if self._items:
            raise InvalidCommandError(list(self._items))
