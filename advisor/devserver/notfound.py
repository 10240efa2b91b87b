"""Our own 404 page under DEBUG (config/settings/local.py adds this middleware).

With DEBUG on, Django answers a 404 with its technical page, which lists the URL patterns;
that is what a revoked share link showed under `make run`. This replaces any HTML 404 with
templates/404.html, as production shows it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.views.defaults import page_not_found


class FriendlyNotFoundMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 404 and response.get("Content-Type", "").startswith("text/html"):
            return page_not_found(request, Http404())
        return response
