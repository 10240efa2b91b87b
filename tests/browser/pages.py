"""What every page must pass in a real browser: no template syntax, no axe-core violation.

`check_page` also saves a full-page screenshot under test-artifacts/ (git-ignored) for a
person to look at.
"""

from __future__ import annotations

import re

from django.conf import settings

from tests.browser.conftest import ARTIFACTS, AXE_PATH

# Django template syntax that leaked into the page ({# #}, {% %}, {{ }}).
TEMPLATE_SYNTAX = re.compile(r"\{[#%{]|[#%}]\}")
PART_HEIGHT = 2000
AXE_RUN = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary),
  }));
}"""


def own(page, *assessments) -> None:
    """Give the browser a session that made these assessments (as if it had made them)."""
    from django.contrib.sessions.backends.db import SessionStore

    from advisor.ownership import SESSION_ASSESSMENTS

    session = SessionStore()
    session[SESSION_ASSESSMENTS] = [str(assessment.pk) for assessment in assessments]
    session.create()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": page.base_url}]
    )


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as it is now (every rule axe runs by default)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: allowed under script-src 'self'.
        page.evaluate(AXE_PATH.read_text(encoding="utf-8") + "\n;undefined")
    return page.evaluate(AXE_RUN)


def screenshot(page, name: str, *, full_page: bool = True) -> None:
    """test-artifacts/NAME-WIDTH.png; a long page in parts (-p1, -p2, ...) of 2,000 px."""
    ARTIFACTS.mkdir(exist_ok=True)
    stem = f"{name}-{getattr(page, 'width_name', 'desktop')}"
    for old in ARTIFACTS.glob(f"{stem}*.png"):
        old.unlink()
    if not full_page:
        page.screenshot(path=str(ARTIFACTS / f"{stem}.png"))
        return
    width = page.viewport_size["width"]
    height = page.evaluate("document.documentElement.scrollHeight")
    for number, top in enumerate(range(0, height, PART_HEIGHT), start=1):
        clip = {"x": 0, "y": top, "width": width, "height": min(PART_HEIGHT, height - top)}
        if clip["height"] < 20:
            break
        suffix = "" if height <= PART_HEIGHT else f"-p{number}"
        page.screenshot(path=str(ARTIFACTS / f"{stem}{suffix}.png"), full_page=True, clip=clip)


def check_page(page, name: str) -> None:
    """No template syntax in the text or title, no axe violation; a screenshot to look at."""
    text = page.evaluate("document.title + '\\n' + document.body.innerText")
    leaked = TEMPLATE_SYNTAX.findall(text)
    assert not leaked, f"{name}: template syntax in the page text: {leaked}"
    page_width = page.evaluate("document.documentElement.scrollWidth")
    viewport_width = page.viewport_size["width"]
    assert page_width <= viewport_width, f"{name}: {page_width} px wide in {viewport_width} px"
    screenshot(page, name)
    # axe-core measures some elements by setting style attributes itself; the CSP reports
    # those, but they are the checker's, not the page's: forget what arrives during its run.
    csp_reports = getattr(page, "violations", None)
    before = len(csp_reports) if csp_reports is not None else 0
    violations = axe_violations(page)
    if csp_reports is not None:
        page.wait_for_timeout(200)  # console messages arrive asynchronously
        del csp_reports[before:]
    assert not violations, f"{name}: axe-core violations: {violations}"
