"""Shared fixtures: the question bank, the default rules, personas."""

import json
from pathlib import Path

import pytest

from advisor.engine.bank import default_bank
from advisor.engine.rules import DEFAULT_RULES_PATH, load_ruleset_file

TESTS_DIR = Path(__file__).resolve().parent
# A copy of the project spec's public personas: the suite carries its own data.
PUBLIC_PERSONAS_PATH = TESTS_DIR / "data" / "personas-public.json"
# A copy of spec/questions.md, the public contract of question ids and values.
SPEC_QUESTIONS_PATH = TESTS_DIR / "data" / "spec-questions.md"
EXTRA_PERSONAS_PATH = TESTS_DIR / "data" / "personas-extra.json"


def load_personas() -> dict:
    public = json.loads(PUBLIC_PERSONAS_PATH.read_text())
    extra = json.loads(EXTRA_PERSONAS_PATH.read_text())
    return {**public, **extra}


@pytest.fixture(scope="session")
def bank():
    return default_bank()


@pytest.fixture(scope="session")
def default_rules(bank):
    return load_ruleset_file(DEFAULT_RULES_PATH, bank=bank)


@pytest.fixture
def published_ruleset(db):
    from advisor.rulesets.services import ruleset_load_default

    ruleset, _ = ruleset_load_default()
    return ruleset


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Each test starts with no request counted against the rate limits."""
    from django.core.cache import caches

    caches["ratelimit"].clear()
