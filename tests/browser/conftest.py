"""Playwright driving Debian's Chromium (DESIGN.md): `playwright install` cannot run here."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

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


def is_csp_violation(message) -> bool:
    """Chromium reports each blocked script, style or eval as a console error."""
    return message.type == "error" and "Content Security Policy" in message.text


def watch_csp(page, violations: list[str]) -> None:
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}") if is_csp_violation(message) else None
        ),
    )


@pytest.fixture
def page(browser, live_server, transactional_db):
    """A fresh browser page; the test fails if the page broke its Content-Security-Policy."""
    from advisor.rulesets.services import ruleset_load_default

    ruleset_load_default()
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    # How long an expectation waits, not how fast the app must be: plotly.js takes several
    # seconds to parse on a busy two-core machine.
    expect.set_options(timeout=20_000)
    page.base_url = live_server.url
    violations: list[str] = []
    watch_csp(page, violations)
    context.on("page", lambda other: watch_csp(other, violations))
    page.violations = violations  # a test that opens another context watches it here too
    yield page
    context.close()
    assert not violations, "the browser reported CSP violations:\n" + "\n".join(violations)


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
    violations: list[str] = []
    watch_csp(page, violations)
    page.violations = violations
    yield page
    context.close()
    assert not violations, "the browser reported CSP violations:\n" + "\n".join(violations)
