"""Fuzzing the service against its own OpenAPI document, with a fixed budget per operation.

Schemathesis generates requests from the document, valid and invalid, and checks that no
answer is a server error and that every answer conforms to the document: status codes,
content types, headers and bodies.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from api.demo import load_demo
from api.security import ApiKeys
from api.settings import Settings
from domain.application import Records
from projections.runner import ProjectionRunner, Projector

EXAMPLES_PER_OPERATION = 15


@pytest.fixture
def admin_key(projector: Projector) -> str:
    return ApiKeys(projector.store.pool).create("fuzzer", "admin")[1]


# Schemathesis's own strategies draw from the `random` module, which newer Hypothesis warns
# about now and then (whether it does depends on the case drawn): the fuzzer's, not ours.
@pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies"
    ":hypothesis.errors.HypothesisDeprecationWarning"
)
def test_no_server_error_and_every_answer_conforms(
    pg_records: Records, projector: Projector, runner: ProjectionRunner, admin_key: str
) -> None:
    # A runner keeps the read models up to date, as in the service: a read waits for the
    # writes the fuzzer had acknowledged before it (the default), and they come.
    load_demo(pg_records)
    projector.catch_up()
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", create_app(Settings(refusals_per_second=0), pg_records, projector)
    )
    headers = {"Authorization": f"Bearer {admin_key}"}
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), "the document is not valid"
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) >= 25

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: Any) -> None:
            # The record refuses much that the document allows (a quote not in its source,
            # a date in the future), so valid-looking data may rightly get 422.
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        exercise()
