"""The sources the record remembers, to check quotes without reading the log: bounded in
number and in the characters of their texts, and never remembered twice."""

from __future__ import annotations

import pytest

from domain.application import Records, _characters


def register(app: Records, slug: str, text: str) -> None:
    app.register_source(
        id=slug,
        title="A readout",
        publisher="A ministry",
        language="en",
        text=text,
        recorded_by="tester",
    )


def test_remembered_sources_hold_at_most_so_many_characters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = Records({"PERSISTENCE_MODULE": "eventsourcing.popo", "AGGREGATE_CACHE_MAXSIZE": "100"})
    monkeypatch.setattr(Records, "source_cache_characters", 50_000)
    for n in range(10):
        register(app, f"source-{n:02d}", f"Text number {n}. " + "word " * 2_000)  # ≈ 10 kB
        app.source(f"source-{n:02d}")

    remembered = [source for source, _ in app._sources.values()]
    assert sum(_characters(source) for source in remembered) <= 50_000
    assert 0 < len(remembered) < 10
    assert "source-09" in app._sources  # the latest are kept, the oldest forgotten
    cache = app.repository.cache
    assert cache is not None
    for source in remembered:  # not also among the aggregates
        with pytest.raises(KeyError):
            cache.get(source.id)
    # A forgotten source is read again from the log when a quote needs it.
    assert app.source("source-00").text is not None


def test_a_source_too_large_to_remember_is_read_from_the_log_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = Records({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    monkeypatch.setattr(Records, "source_cache_characters", 1_000)
    register(app, "long-readout", "Baku hosted the meeting. " + "x " * 5_000)
    for _ in range(2):
        assert app.source("long-readout").quotes("Baku hosted the meeting")
    assert app._sources == {}
