from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET


@require_GET
def tradeoffs(request: HttpRequest) -> TemplateResponse:
    return TemplateResponse(request, "advisor/tradeoffs.html", {})
