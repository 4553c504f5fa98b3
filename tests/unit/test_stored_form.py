"""The read models' view of a stored value is what ``plain`` makes of the decoded value."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import UUIDAsHex

from domain.transcodings import TRANSCODINGS
from domain.values import Evidence, Place, Representative
from projections.values import StoredForm, plain


@pytest.mark.parametrize(
    "value",
    [
        Evidence("src-1", "a quote"),
        Place("Geneva", "CH"),
        Representative("US", "A. Person", "Ambassador"),
    ],
)
def test_an_object_of_text_fields_is_read_as_plain_makes_it(value: Any) -> None:
    form = StoredForm({transcoding.name: transcoding for transcoding in TRANSCODINGS})
    transcoding = next(t for t in TRANSCODINGS if isinstance(value, t.type))
    stored = {"_type_": transcoding.name, "_data_": transcoding.encode(value)}
    assert form.form(stored) == plain(value)
    assert form.form({"items": [stored]}) == {"items": [plain(value)]}


@pytest.mark.parametrize(
    "encoded",
    [
        UUIDAsHex().encode(UUID("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")),
        "0A1B2C3D4E5F4A6B8C7D9E0F1A2B3C4D",
        "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    ],
)
def test_a_uuid_is_read_as_plain_makes_it_however_its_hex_is_written(encoded: str) -> None:
    form = StoredForm({"uuid_hex": UUIDAsHex()})
    assert form.form({"_type_": "uuid_hex", "_data_": encoded}) == plain(
        UUIDAsHex().decode(encoded)
    )
