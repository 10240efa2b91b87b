"""The trade-offs page: the article's claims and what experts know beyond it."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from advisor.engine.knowledge import ARTICLE_URL
from advisor.engine.knowledge import tradeoffs as tradeoff_entries


@require_GET
def tradeoffs(request: HttpRequest) -> TemplateResponse:
    entries = list(tradeoff_entries().values())
    return TemplateResponse(
        request,
        "tradeoffs.html",
        {
            "article": [entry for entry in entries if entry.kind == "article"],
            "expert": [entry for entry in entries if entry.kind == "expert"],
            "article_url": ARTICLE_URL,
        },
    )
