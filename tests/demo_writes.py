"""A write to the demo record that the service tests send again and again: a statistic reported
at the demo session, quoting its source (registered without text, so any quote stands)."""

from __future__ import annotations

from typing import Any

from api.demo import COMMISSION, SESSION, SOURCE

STATISTICS = f"/commissions/{COMMISSION}/sessions/{SESSION}/statistics"
STATISTIC: dict[str, Any] = {
    "measure": "imports",
    "value_kind": "level",
    "value": "1.2E9",
    "unit": "USD",
    "qualifier": "approximately",
    "reporter": "AZ",
    "partner": "RU",
    "period": "2023",
    "evidence": [{"source": SOURCE, "quote": "was held in Baku"}],
}
