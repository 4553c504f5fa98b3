"""The demo's API keys: the same at every start of ``serve --demo``, not a new pair each time.

The keys are kept in the data directory (``demo-keys.json``, readable by the service's user
only). A kept key that no longer opens the database (another database, a wiped one) is
renewed: the key of that name gets a new secret, so the demo never piles up keys.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from api.security import ApiKeys

# Name and role of each demo key; the names are recorded as recorded_by.
DEMO_KEYS = (("demo", "recorder"), ("demo-reader", "reader"))
FILE = "demo-keys.json"


def demo_keys(keys: ApiKeys, data_dir: Path) -> dict[str, str]:
    """The demo's key of each role, kept or renewed."""
    path = data_dir / FILE
    try:
        kept = json.loads(path.read_text())
    except (OSError, ValueError):
        kept = {}
    if not isinstance(kept, dict):
        kept = {}
    found: dict[str, str] = {}
    for name, role in DEMO_KEYS:
        key = kept.get(role)
        principal = keys.authenticate(key) if isinstance(key, str) else None
        if principal is None or (principal.name, principal.role) != (name, role):
            _, key = keys.renew(name, role)
        assert isinstance(key, str)
        found[role] = key
    if found != kept:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as kept_file:
            json.dump(found, kept_file)
    return found
