"""Development plumbing: our 404 page under DEBUG, and a request log without poll lines."""

import logging

import pytest
from django.test import Client

from advisor.devserver.logs import QuietPolls

RUN = "/demos/0b5e4a2c-8a41-4a57-9f3e-1c2d3e4f5a6b/"


@pytest.fixture
def debug_with_friendly_404(settings):
    settings.DEBUG = True
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "advisor.devserver.notfound.FriendlyNotFoundMiddleware",
    ]


@pytest.mark.parametrize("url", ["/s/revoked-or-unknown/", "/no/such/page/", RUN])
def test_a_404_under_debug_is_our_page_not_djangos_url_list(db, debug_with_friendly_404, url):
    response = Client().get(url)
    page = response.content.decode()
    assert response.status_code == 404
    assert "This page does not exist" in page
    assert "URLconf" not in page and "urlpatterns" not in page.lower()


def test_without_the_middleware_debug_shows_djangos_page(db, settings):
    settings.DEBUG = True
    page = Client().get("/no/such/page/").content.decode()
    assert "URLconf" in page  # what the middleware replaces


def record(message: str, status: int) -> logging.LogRecord:
    entry = logging.LogRecord("django.server", logging.INFO, __file__, 1, message, (), None)
    entry.status_code = status
    return entry


def test_the_request_log_leaves_out_successful_polls_of_a_demo_run():
    quiet = QuietPolls()
    assert not quiet.filter(record(f'"GET {RUN} HTTP/1.1" 200 2048', 200))
    assert not quiet.filter(record(f'"GET {RUN}?standalone=1 HTTP/1.1" 200 2048', 200))
    assert quiet.filter(record(f'"GET {RUN} HTTP/1.1" 500 120', 500))
    assert quiet.filter(record(f'"POST {RUN}cancel/ HTTP/1.1" 302 0', 302))
    assert quiet.filter(record('"GET / HTTP/1.1" 200 5120', 200))


def test_our_500_page_renders_without_a_request_or_database(settings):
    from django.test import RequestFactory
    from django.views.defaults import server_error

    settings.DEBUG = False
    # As Django's handler calls it: the template gets no context and no context processors.
    response = server_error(RequestFactory().get("/"))
    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in page and "/static/css/app.css" in page
