from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from questionnaire.bank import default_bank


@require_GET
def home(request: HttpRequest) -> TemplateResponse:
    bank = default_bank()
    return TemplateResponse(
        request,
        "questionnaire/home.html",
        {"bank": bank, "question_count": len(bank.questions)},
    )
