"""Deterministic aggregate ids from natural keys.

A commission, session or source has one id however often and wherever it is computed, so two
writers creating the same thing collide in the event store instead of creating it twice.
"""

from __future__ import annotations

from uuid import UUID, uuid5

# The namespace of every id this record derives; changing it would orphan every stored stream.
NAMESPACE = UUID("0c2f6b57-4d35-5c4e-9a58-2f4b8e0d1a73")


def source_id(slug: str) -> UUID:
    return uuid5(NAMESPACE, f"source/{slug}")


def commission_id(slug: str) -> UUID:
    return uuid5(NAMESPACE, f"commission/{slug}")


def session_id(commission: str, key: str) -> UUID:
    return uuid5(NAMESPACE, f"session/{commission}/{key}")
