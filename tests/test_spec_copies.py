"""The suite's copies of spec data match the spec, where the spec folder is beside the clone.

A user's clone has no ``../shared``: there these tests say so and do not run. In the
development workspace and CI it is there, and a copy that drifted from it fails.
"""

import json

import pytest

from tests.conftest import PUBLIC_PERSONAS_PATH, SPEC_QUESTIONS_PATH, TESTS_DIR

SPEC_DIR = TESTS_DIR.parent.parent / "shared" / "spec"


@pytest.mark.skipif(not SPEC_DIR.is_dir(), reason="no ../shared/spec beside this clone")
def test_the_public_personas_are_the_specs():
    spec = json.loads((SPEC_DIR / "personas-public.json").read_text(encoding="utf-8"))
    ours = json.loads(PUBLIC_PERSONAS_PATH.read_text(encoding="utf-8"))
    assert ours == spec


@pytest.mark.skipif(not SPEC_DIR.is_dir(), reason="no ../shared/spec beside this clone")
def test_the_question_contract_is_the_specs():
    spec = (SPEC_DIR / "questions.md").read_text(encoding="utf-8")
    assert SPEC_QUESTIONS_PATH.read_text(encoding="utf-8") == spec
