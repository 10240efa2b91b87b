"""The JSON API fuzzed from its own OpenAPI document (schemathesis): no 500, ever.

schemathesis reads /api/v1/openapi.json from the app, generates bodies that fit the
schema and bodies that break it (wrong types, missing fields, unknown keys, odd text),
sends them through the whole Django stack, and checks each answer: no server error, a
documented status, content type and headers, a body that fits the documented schema,
schema-valid bodies accepted and invalid ones refused. Bounded: a fixed number of
examples and no deadline, so it takes seconds, on SQLite and on PostgreSQL (CI).
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from config.wsgi import application

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture(autouse=True)
def scoring_rules(published_ruleset, settings):
    settings.RATELIMIT_ENABLE = False  # the limits are tested apart; here every body counts


@pytest.fixture(autouse=True)
def connection_kept_across_requests():
    """As Django's test client does: the test's transaction outlives each request.

    Otherwise the end of a request closes the connection inside the test's transaction
    (PostgreSQL; SQLite's in-memory test database is never closed).
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_the_api_answers_every_generated_request_as_documented(case):
    case.call_and_validate()
