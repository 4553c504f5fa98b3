"""The read models' view of a stored value is what ``plain`` makes of the decoded value."""

from __future__ import annotations

from typing import Any

import pytest

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
