"""The domain of the record: commissions, sessions, sources and the facts recorded at sessions.

Imports only the standard library, ``eventsourcing`` and reference code lists.
"""
