"""Checks at the edge, before a view or another middleware reads the request."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from advisor.engine.textinput import NUL_CHARACTER

BODY_TOO_LARGE = "the body is {size} bytes; at most {limit} are accepted"
FIELD_REFUSED = "the {part} '{name}' {problem}"
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def refuse(request: HttpRequest, field: str, message: str, status: int) -> HttpResponse:
    """A 400 or 413 naming the problem: JSON for the API, plain text elsewhere."""
    if is_api(request):
        return JsonResponse({"errors": {field: message}}, status=status)
    return HttpResponse(
        f"{message[:1].upper()}{message[1:]}.",
        status=status,
        content_type="text/plain; charset=utf-8",
    )


class RequestLimitsMiddleware:
    """413 for a body larger than Django would read; 400 for a NUL anywhere in a field.

    Django reads at most DATA_UPLOAD_MAX_MEMORY_SIZE of a body and then answers 400
    (RequestDataTooBig); a body that size is "too large", which is 413. A NUL character
    (U+0000) is refused by PostgreSQL in any text it stores or compares (an admin search,
    a filter): no page of ours has a use for one, so it is refused here for all of them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            size = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = 0
        if limit is not None and size > limit:
            message = BODY_TOO_LARGE.format(size=size, limit=limit)
            return refuse(request, "body", message, status=413)
        problem = self.nul_problem(request)
        if problem:
            return refuse(request, "request", problem, status=400)
        return self.get_response(request)

    @staticmethod
    def nul_problem(request: HttpRequest) -> str | None:
        if "\x00" in request.path_info:
            return FIELD_REFUSED.format(
                part="address",
                name=request.path_info[:60].replace("\x00", "\\0"),
                problem=NUL_CHARACTER,
            )
        fields = [("query parameter", request.GET)]
        if request.method == "POST" and request.content_type in FORM_CONTENT_TYPES:
            fields.append(("form field", request.POST))
        for part, data in fields:
            for name, values in data.lists():
                if "\x00" in name or any("\x00" in value for value in values):
                    shown = name[:60].replace("\x00", "\\0")
                    return FIELD_REFUSED.format(part=part, name=shown, problem=NUL_CHARACTER)
        return None
