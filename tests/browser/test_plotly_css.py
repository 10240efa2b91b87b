"""static/vendor/plotly/plotly.css holds exactly the rules plotly.js would inject.

Under the strict CSP plotly.js may not add its <style>; it skips that when the page links
#plotly.js-style-global.no-inline-styles (templates/includes/plotly_head.html). After an
update of plotly.js this test says what the file must hold.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
VENDOR = ROOT / "static" / "vendor" / "plotly"
PLOTLY_HEAD = ROOT / "templates" / "includes" / "plotly_head.html"


def test_plotly_css_matches_what_plotly_js_injects_without_a_csp(browser, tmp_path):
    (tmp_path / "page.html").write_text(
        f'<!doctype html><html><head></head><body><script src="{VENDOR / "plotly-basic.min.js"}">'
        "</script></body></html>"
    )
    context = browser.new_context()
    page = context.new_page()
    page.goto((tmp_path / "page.html").as_uri())
    page.wait_for_function("window.Plotly")
    injected = page.evaluate(
        """Array.from(document.getElementById('plotly.js-style-global').sheet.cssRules)
             .map(rule => rule.cssText).reverse().join('\\n')"""
    )
    style_ids = page.evaluate("Array.from(document.querySelectorAll('style')).map(s => s.id)")
    context.close()
    assert (VENDOR / "plotly.css").read_text().strip() == injected.strip(), (
        "plotly.js injects other rules now: write them to static/vendor/plotly/plotly.css"
    )
    # No other <style> at load (the full bundle added the map library's; the basic does not).
    assert style_ids == ["plotly.js-style-global"]
    assert 'id="plotly.js-style-global" class="no-inline-styles"' in PLOTLY_HEAD.read_text()
