"""The API's OpenAPI 3.1 document, served at /api/v1/openapi.json.

The answers schema is generated from the question bank, so it cannot drift from what
the API validates: each question's values as an enum, the questions always asked as
``required``, and each conditional question (``shown_when``) required exactly when its
condition holds (the condition language maps one to one onto JSON Schema). The rest is
written by hand here; tests/questionnaire/test_api_fuzz.py sends what schemathesis
generates from this document and checks every answer against it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from advisor.engine.bank import Question, QuestionBank
from advisor.engine.conditions import Condition, Group, Leaf, Not
from advisor.engine.describe import OUTCOME_NAMES
from advisor.engine.textinput import MAX_JSON_DEPTH

TITLE_MAX_LENGTH = 200
# Text the API refuses (advisor.engine.textinput): C0 and C1 controls, bidi controls.
SINGLE_LINE_TEXT = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]*$"


def condition_schema(condition: Condition) -> dict[str, Any]:
    """A JSON Schema that an answers object matches exactly when the condition holds.

    A test on a question without an answer is false, as in the engine.
    """
    if isinstance(condition, Leaf):
        if condition.operator == "equals":
            value = {"const": condition.value}
        elif condition.operator == "in":
            value = {"enum": list(condition.value)}
        else:
            value = {"type": "array", "contains": {"const": condition.value}}
        return {"properties": {condition.question: value}, "required": [condition.question]}
    if isinstance(condition, Group):
        key = "allOf" if condition.operator == "all" else "anyOf"
        return {key: [condition_schema(child) for child in condition.children]}
    if isinstance(condition, Not):
        return {"not": condition_schema(condition.child)}
    raise TypeError(f"not a condition: {condition!r}")


def question_schema(question: Question) -> dict[str, Any]:
    described = {"title": question.text}
    if question.kind == "yes_no":
        return {**described, "type": "boolean"}
    if question.kind == "single":
        return {**described, "type": "string", "enum": list(question.values)}
    return {
        **described,
        "type": "array",
        "items": {"type": "string", "enum": list(question.values)},
        "minItems": 1,
        "uniqueItems": True,
    }


def answers_schema(bank: QuestionBank) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    for question in bank.questions:
        if question.shown_when is not None and not question.optional:
            rules.append(
                {"if": condition_schema(question.shown_when), "then": {"required": [question.id]}}
            )
        if question.exclusive is not None:
            rules.append(
                {
                    "if": {
                        "properties": {question.id: {"contains": {"const": question.exclusive}}},
                        "required": [question.id],
                    },
                    "then": {"properties": {question.id: {"maxItems": 1}}},
                }
            )
    return {
        "type": "object",
        "description": (
            "Question id to answer (`manage.py questions --format json` lists them). An "
            "answer to a question that is not asked for the other answers is dropped."
        ),
        "properties": {question.id: question_schema(question) for question in bank.questions},
        # An optional question (added after the contract) may be left out: its default counts.
        "required": [q.id for q in bank.questions if q.shown_when is None and not q.optional],
        "additionalProperties": False,
        "allOf": rules,
    }


def errors_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "errors": {
                "type": "object",
                "description": "Each wrong field (or 'body', 'rate', 'rules') and what is wrong.",
                "additionalProperties": {"type": "string"},
                "minProperties": 1,
            },
            "retry_after": {"type": "integer", "minimum": 1},
        },
        "required": ["errors"],
    }


def error_response(description: str, headers: dict | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}},
    }
    if headers:
        response["headers"] = headers
    return response


def openapi_document(bank: QuestionBank) -> dict[str, Any]:
    no_store = {
        "description": "no-store: the body holds share URLs",
        "required": True,
        "schema": {"type": "string", "pattern": "no-store"},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Messaging Advisor API",
            "version": "1",
            "description": (
                "Score an answers object against the published rules in one call. "
                f"Bodies up to 64 KiB, JSON nested at most {MAX_JSON_DEPTH} levels, no NaN."
            ),
        },
        "paths": {
            "/api/v1/assessments": {
                "post": {
                    "operationId": "createAssessment",
                    "summary": "Create a submitted assessment, its report and a share link",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/Answers"},
                                        {"$ref": "#/components/schemas/TitledAnswers"},
                                    ]
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": (
                                "Scored; the share link expires after "
                                f"{settings.API_SHARE_LINK_DAYS} days"
                            ),
                            "headers": {"Cache-Control": no_store},
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Created"}
                                }
                            },
                        },
                        "400": error_response("Bad input: every wrong field is named"),
                        "405": error_response("Only POST"),
                        "413": error_response("The body is larger than 64 KiB"),
                        "415": error_response("The body is not application/json"),
                        "429": error_response(
                            "Too many requests from this address",
                            headers={
                                "Retry-After": {
                                    "description": "Seconds to wait",
                                    "required": True,
                                    "schema": {"type": "string", "pattern": "^[0-9]+$"},
                                }
                            },
                        ),
                        "503": error_response("No published rules to score with"),
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "Answers": answers_schema(bank),
                "TitledAnswers": {
                    "type": "object",
                    "properties": {
                        "title": {
                            "type": "string",
                            "maxLength": TITLE_MAX_LENGTH,
                            "pattern": SINGLE_LINE_TEXT,
                        },
                        "answers": {"$ref": "#/components/schemas/Answers"},
                    },
                    "required": ["answers"],
                    "additionalProperties": False,
                },
                "Created": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string", "format": "uuid"},
                        "report_id": {"type": "string", "format": "uuid"},
                        "recommendation": {"enum": list(OUTCOME_NAMES)},
                        "scores": {
                            "type": "object",
                            "properties": {
                                "artemis": {"type": "number", "minimum": 0, "maximum": 100},
                                "kafka": {"type": "number", "minimum": 0, "maximum": 100},
                            },
                            "required": ["artemis", "kafka"],
                        },
                        "margin": {"type": "number", "minimum": 0, "maximum": 100},
                        "ruleset": {"type": "string"},
                        "report_url": {"type": "string", "format": "uri"},
                        "share_url": {"type": "string", "format": "uri"},
                        "adr_url": {"type": "string", "format": "uri"},
                        "expires_at": {"type": "string", "format": "date-time"},
                    },
                    "required": [
                        "id",
                        "report_id",
                        "recommendation",
                        "scores",
                        "margin",
                        "ruleset",
                        "report_url",
                        "share_url",
                        "adr_url",
                        "expires_at",
                    ],
                },
                "Errors": errors_schema(),
            }
        },
    }
