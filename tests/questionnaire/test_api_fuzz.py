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
from hypothesis import HealthCheck, settings

from config.wsgi import application

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture(autouse=True)
def scoring_rules(published_ruleset, settings):
    settings.RATELIMIT_ENABLE = False  # the limits are tested apart; here every body counts


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_the_api_answers_every_generated_request_as_documented(case):
    case.call_and_validate()
