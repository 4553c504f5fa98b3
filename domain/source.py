"""Sources: the releases, readouts and articles every fact in the record is quoted from."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any, ClassVar, Self

from eventsourcing.domain import Aggregate

from domain.base import RecordAggregate
from domain.codes import MAX_LANGUAGE_TAG, is_language_tag
from domain.dates import PartialDate
from domain.errors import Problems, shown
from domain.ids import source_id
from domain.values import (
    MAX_NAME,
    MAX_SOURCE_TEXT_BYTES,
    MAX_TITLE,
    MAX_URL,
    SearchableText,
    check_optional_text,
    check_slug,
    check_text,
    is_storable,
    is_web_address,
    normalize,
    parse_partial_date,
)


class Source(RecordAggregate):
    """A registered source. Immutable once registered, but for its text: a source registered
    without text may have it registered later, once."""

    slug: str
    title: str
    publisher: str
    url: str | None
    language: str
    published_on: PartialDate | None
    text: str | None
    sha256: str | None
    recorded_by: str

    def __init__(self) -> None:
        self._searchable_text: SearchableText | None = None

    class Registered(Aggregate.Created):
        CATALOGUE_NAME: ClassVar[str] = "SourceRegistered"
        recorded_by: str
        slug: str
        title: str
        publisher: str
        url: str | None
        language: str
        published_on: PartialDate | None
        text: str | None
        sha256: str | None

        def apply(self, aggregate: Any) -> None:
            source: Source = aggregate
            source.recorded_by = self.recorded_by
            source.slug = self.slug
            source.title = self.title
            source.publisher = self.publisher
            source.url = self.url
            source.language = self.language
            source.published_on = self.published_on
            source.text = self.text
            source.sha256 = self.sha256

    @classmethod
    def register(
        cls,
        *,
        slug: str,
        title: str,
        publisher: str,
        language: str,
        url: str | None = None,
        published_on: str | None = None,
        text: str | None = None,
        recorded_by: str,
        recorded_on: date,
    ) -> Self:
        problems = Problems()
        check_slug(problems, "id", slug)
        title = check_text(problems, "title", title, MAX_TITLE)
        publisher = check_text(problems, "publisher", publisher, MAX_NAME)
        url = check_optional_text(problems, "url", url, MAX_URL)
        if url is not None and not is_web_address(url):
            problems.add(
                "url",
                "must be an http(s) address with a host, without spaces or control characters",
            )
        problems.require(
            is_language_tag(language),
            "language",
            f"{shown(language)} is not a BCP 47 language tag (e.g. en, ru, az-Latn) "
            f"of at most {MAX_LANGUAGE_TAG} characters",
        )
        published = parse_partial_date(
            problems, "published_on", published_on, not_after=recorded_on
        )
        sha256 = None
        if text is not None:
            text, sha256 = _check_source_text(problems, text)
        problems.raise_if_any()
        return cls._create(
            cls.Registered,
            id=source_id(slug),
            recorded_by=recorded_by,
            slug=slug,
            title=title,
            publisher=publisher,
            url=url,
            language=language,
            published_on=published,
            text=text,
            sha256=sha256,
        )

    class TextRegistered(Aggregate.Event):
        """The text of a source registered without one: its quotes can now be checked."""

        CATALOGUE_NAME: ClassVar[str] = "SourceTextRegistered"
        recorded_by: str
        slug: str
        text: str
        sha256: str

        def apply(self, aggregate: Any) -> None:
            source: Source = aggregate
            source.text = self.text
            source.sha256 = self.sha256
            source._searchable_text = None

    def register_text(self, text: str, *, recorded_by: str) -> None:
        """Registers the text of a source registered without one. A source's text, once
        registered, never changes: a second text is refused, even the same one again."""
        problems = Problems()
        if self.text is not None:
            problems.add(
                "text",
                f"source {self.slug!r} has a registered text already (sha256 {self.sha256}); "
                "a source's text never changes: register the new text as a source of its own",
            )
            problems.raise_if_any()
        checked, sha256 = _check_source_text(problems, text)
        problems.raise_if_any()
        self.trigger_event(
            self.TextRegistered,
            recorded_by=recorded_by,
            slug=self.slug,
            text=checked,
            sha256=sha256,
        )

    def quotes(self, quote: str) -> bool:
        """Whether ``quote`` occurs in the registered text, white space runs collapsed.

        A source registered without text cannot be checked: every quote is taken as given.
        """
        searchable = self._searchable()
        return searchable is None or searchable.find(quote) is not None

    def locate(self, quote: str) -> tuple[int, int] | None:
        """Where ``quote`` occurs in the registered text, as character offsets into it
        (``text[start:end]``); None if it does not, or if the source has no text."""
        searchable = self._searchable()
        return None if searchable is None else searchable.span(quote)

    def _searchable(self) -> SearchableText | None:
        if self.text is None:
            return None
        if self._searchable_text is None:
            self._searchable_text = SearchableText(self.text)
        return self._searchable_text


def _check_source_text(problems: Problems, text: str) -> tuple[str, str]:
    """A source's text as the record stores it (NFC), and its sha256."""
    if not isinstance(text, str) or not is_storable(text):
        problems.add("text", "contains a NUL character or a lone surrogate")
        text = ""
    text = normalize(text)
    size = len(text.encode())
    if not text.strip():
        problems.add("text", "must not be empty; leave it out if the text is not known")
    elif size > MAX_SOURCE_TEXT_BYTES:
        problems.add("text", f"is {size} bytes long; at most {MAX_SOURCE_TEXT_BYTES} are allowed")
    return text, hashlib.sha256(text.encode()).hexdigest()
