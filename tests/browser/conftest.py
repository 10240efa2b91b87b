"""Playwright driving Debian's Chromium (DESIGN.md): `playwright install` cannot run here."""

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
# How long a test waits for the charts to be drawn: a bound, never a speed assertion
# (parsing plotly.js takes seconds on a loaded two-core machine).
CHART_WAIT_MS = 30_000
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API runs an event loop; Django must allow its ORM calls in tests.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, transactional_db):
    from advisor.rulesets.services import ruleset_load_default

    ruleset_load_default()
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    yield page
    context.close()


# --- the first-five-minutes walk (issue 13): two widths, axe-core, screenshots -------------

VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"  # git-ignored; screenshots to look at
AXE_PATH = ROOT / "tests" / "vendor" / "axe.min.js"  # axe-core 4.14.1 (static/vendor/README.md)


@pytest.fixture(params=list(VIEWPORTS))
def sized_page(request, browser, live_server, transactional_db):
    """A page at desktop (1440x900) and at phone (390x844) width."""
    from advisor.rulesets.services import ruleset_load_default

    ruleset_load_default()
    context = browser.new_context(viewport=VIEWPORTS[request.param])
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    page.width_name = request.param
    yield page
    context.close()
