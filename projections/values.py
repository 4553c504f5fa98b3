"""Domain values as the read models store them: JSON-ready, dates as text and sortable days.

The read models see each event as a :class:`Recorded`: its envelope, and its data in the JSON
form :func:`event_data` gives a decoded event, read straight from the stored JSON without
making the domain event (see :class:`StoredForm`), by a :class:`Reading` of its event type.
"""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from operator import itemgetter
from typing import Any, NamedTuple, Union, get_args, get_origin, get_type_hints
from uuid import UUID

import orjson
from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.dates import PartialDate, Period


def timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def decimal_text(value: Decimal) -> str:
    """A decimal in plain notation (``4400000000``), as the API writes amounts."""
    return format(value, "f")


def plain(value: Any) -> Any:
    """A stored value as JSON: partial dates and periods as text, decimals as strings."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, PartialDate | Period | UUID):
        return str(value)
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return str(value)


#: Fields every stored event has that are shown under names of their own, not in its data.
EVENT_ENVELOPE = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "recorded_by"}
)


def event_data(event: Any) -> dict[str, Any]:
    """An event's own fields (its envelope left out) as JSON."""
    return {name: plain(value) for name, value in vars(event).items() if name not in EVENT_ENVELOPE}


Span = tuple[str | None, date | None, date | None]


def span(value: PartialDate | Period | None) -> Span:
    """A date as text, and the first and last day it covers, for sorting and filtering."""
    if value is None:
        return None, None, None
    return str(value), value.first_day, value.last_day


# Dates and periods recur throughout a record: each distinct text is parsed once.
RECURRING_VALUES = 65_536


@lru_cache(maxsize=RECURRING_VALUES)
def date_span(text: str | None) -> Span:
    """The span of a partial date given as text (``None`` for none)."""
    return span(None if text is None else PartialDate.parse(text))


@lru_cache(maxsize=RECURRING_VALUES)
def period_span(text: str | None) -> Span:
    """The span of a period given as text (``None`` for none)."""
    return span(None if text is None else Period.parse(text))


class Recorded(NamedTuple):
    """An event as the read models see it: where it is in the log, who recorded it when, and
    its own fields as JSON (``event_data`` of the decoded event). Shared by every model a
    batch is applied to: handlers read ``data``, never change it. A named tuple: read-only,
    and made in half the time of a frozen dataclass (a rebuild makes one per event)."""

    position: int
    name: str
    stream: UUID
    version: int
    recorded_at: datetime
    recorded_by: str | None
    data: dict[str, Any]


# A UUID as ``uuid_hex`` writes it: its 32 hex digits, in lower case.
_UUID_HEX = re.compile("[0-9a-f]{32}")
# What JSON nests: the only values ``StoredForm.form`` has to look into.
CONTAINERS = (dict, list)
# Value objects stored as an object of their text fields (evidence, a place, a person): what
# ``plain`` makes of them is what is stored, with nothing inside to look into.
TEXT_OBJECTS = frozenset({"evidence", "representative", "place"})
# Types whose values JSON holds as they are: a field of them is stored as ``plain`` makes it.
JSON_TYPES = (str, int, bool, float, type(None))

Form = Callable[[Any], Any]
"""Turns one field's stored JSON into what ``plain`` makes of its decoded value."""


class Reading(NamedTuple):
    """How the stored events of one type are read: worked out once from the event class's
    fields and annotations, by :meth:`StoredForm.reading`."""

    name: str
    """The catalogue's name for the events."""
    fields: frozenset[str]
    """What the stored JSON of such an event holds: its envelope and its own fields."""
    forms: tuple[tuple[str, Form], ...]
    """The fields whose stored JSON is not already what ``plain`` makes of their value, each
    with its form; the others are read as they are."""
    upcast: type | None = None
    """The event class, when it has upcasters (a ``class_version`` above 1): its events are
    then decoded as the library decodes them, and brought up to its version."""


class StoredForm:
    """Turns an event's stored JSON into a :class:`Recorded`, without the domain event.

    The library's transcoder writes a value JSON has no type for as
    ``{"_type_": name, "_data_": encoded}``. Each such value becomes what ``plain`` makes of
    its decoded value: for the types the record stores by the thousand (ids, amounts, dates,
    evidence) directly from the encoded text (an object of text fields as it is, unwalked),
    for any other by decoding it with its transcoding. The stored JSON is parsed with
    ``orjson``.

    An event type's :class:`Reading` knows from the class's annotations which fields hold
    such values, and how each is read: the others (text, numbers, lists of text) are taken as
    parsed, without looking into them. A field whose annotation says too little (``Any``, a
    union of types) is walked: each object in it read by its ``_type_``.

    The events of a class with upcasters (``class_version`` 2 or more, ``upcast_v1_v2`` and
    so on) are read as the library reads them instead: decoded whole, then upcast. That is
    how an event stored before a fix of its class reads as the fix says.
    """

    def __init__(self, transcodings: Mapping[str, Transcoding]) -> None:
        self.transcodings = transcodings
        self._transcoder = JSONTranscoder()
        for transcoding in transcodings.values():
            self._transcoder.register(transcoding)
        self.forms: dict[str, Callable[[Any], Any]] = {
            "uuid_hex": _uuid_text,
            "decimal_str": _decimal_text,
            "partial_date": _partial_date_text,
            "period": _period_text,
        }
        self._transcoded = {transcoding.type: name for name, transcoding in transcodings.items()}

    def reading(self, event_class: type, name: str) -> Reading:
        """How the stored events of ``event_class`` (``name`` in the catalogue) are read."""
        if getattr(event_class, "class_version", 1) > 1:
            # No fields: every event of the class takes the slow way, through its upcasters.
            return Reading(name, frozenset(), (), upcast=event_class)
        hints = get_type_hints(event_class)
        stored = [field.name for field in dataclasses.fields(event_class)]
        forms = tuple(
            (field, form)
            for field in stored
            if field not in EVENT_ENVELOPE and (form := self._form(hints[field])) is not None
        )
        return Reading(name, frozenset(stored), forms)

    def recorded(
        self, position: int, reading: Reading, stream: UUID, version: int, state: bytes
    ) -> Recorded:
        fields: dict[str, Any] = orjson.loads(state)
        if not fields.keys() <= reading.fields:  # stored by another version of the class
            if reading.upcast is not None:
                return self.upcasted(position, reading, stream, version, state)
            return self.walked(position, reading.name, stream, version, fields)
        moment = fields.pop("timestamp")
        recorded_by = fields.pop("recorded_by", None)
        fields.pop("originator_topic", None)
        for field, form in reading.forms:
            if field in fields:
                fields[field] = form(fields[field])
        return Recorded(
            position=position,
            name=reading.name,
            stream=stream,
            version=version,
            recorded_at=self.transcodings[moment["_type_"]].decode(moment["_data_"]),
            recorded_by=recorded_by,
            data=fields,
        )

    def upcasted(
        self, position: int, reading: Reading, stream: UUID, version: int, state: bytes
    ) -> Recorded:
        """An event of a class with upcasters, decoded and upcast as the library's mapper
        does, then made plain."""
        event_class = reading.upcast
        assert event_class is not None
        fields: dict[str, Any] = self._transcoder.decode(state)
        stored_version = fields.pop("class_version", 1)
        while stored_version < event_class.class_version:  # type: ignore[attr-defined]
            getattr(event_class, f"upcast_v{stored_version}_v{stored_version + 1}")(fields)
            stored_version += 1
        return Recorded(
            position=position,
            name=reading.name,
            stream=stream,
            version=version,
            recorded_at=fields["timestamp"],
            recorded_by=fields.get("recorded_by"),
            data={key: plain(value) for key, value in fields.items() if key not in EVENT_ENVELOPE},
        )

    def walked(
        self, position: int, name: str, stream: UUID, version: int, fields: dict[str, Any]
    ) -> Recorded:
        """An event read from its parsed stored JSON by walking all of it."""
        moment = fields["timestamp"]
        return Recorded(
            position=position,
            name=name,
            stream=stream,
            version=version,
            recorded_at=self.transcodings[moment["_type_"]].decode(moment["_data_"]),
            recorded_by=fields.get("recorded_by"),
            data={
                key: self.form(value) if type(value) in CONTAINERS else value
                for key, value in fields.items()
                if key not in EVENT_ENVELOPE
            },
        )

    def _form(self, hint: Any) -> Form | None:
        """How a field annotated ``hint`` is read; None when its stored JSON is its plain
        form already."""
        origin = get_origin(hint)
        if origin in (Union, types.UnionType):
            options = [option for option in get_args(hint) if option is not type(None)]
            if len(options) > 1:
                return self._walk
            form = self._form(options[0])
            return None if form is None else _optional(form)
        if origin is list:
            (item,) = get_args(hint)
            form = self._form(item)
            return None if form is None else _each(form)
        if origin is dict:
            key, item = get_args(hint)
            return None if key is str and self._form(item) is None else self._walk
        if hint in JSON_TYPES:
            return None
        name = self._transcoded.get(hint)
        if name in TEXT_OBJECTS:
            return _encoded
        if name in self.forms:
            return _from_encoded(self.forms[name])
        return self._walk

    def _walk(self, value: Any) -> Any:
        return self.form(value) if type(value) in CONTAINERS else value

    def form(self, value: dict[str, Any] | list[Any]) -> Any:
        """A stored JSON object or array as ``plain`` gives its decoded value."""
        if isinstance(value, list):
            return [self.form(item) if type(item) in CONTAINERS else item for item in value]
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            name, encoded = value["_type_"], value["_data_"]
            if name in TEXT_OBJECTS:
                return encoded
            if type(encoded) in CONTAINERS:
                encoded = self.form(encoded)
            form = self.forms.get(name)
            if form is not None:
                return form(encoded)
            return plain(self.transcodings[name].decode(encoded))
        return {
            key: self.form(item) if type(item) in CONTAINERS else item
            for key, item in value.items()
        }


# A transcoded value's encoded form.
_encoded: Form = itemgetter("_data_")


def _from_encoded(form: Form) -> Form:
    return lambda value: form(value["_data_"])


def _optional(form: Form) -> Form:
    return lambda value: None if value is None else form(value)


def _each(form: Form) -> Form:
    return lambda value: [form(item) for item in value]


def _uuid_text(encoded: str) -> str:
    if _UUID_HEX.fullmatch(encoded):  # as the library writes one: cut into its groups
        return f"{encoded[:8]}-{encoded[8:12]}-{encoded[12:16]}-{encoded[16:20]}-{encoded[20:]}"
    return str(UUID(encoded))


def _decimal_text(encoded: str) -> str:
    return decimal_text(Decimal(encoded))


@lru_cache(maxsize=RECURRING_VALUES)
def _partial_date_text(encoded: str) -> str:
    return str(PartialDate.parse(encoded))


@lru_cache(maxsize=RECURRING_VALUES)
def _period_text(encoded: str) -> str:
    return str(Period.parse(encoded))
