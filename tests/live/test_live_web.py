"""A live demo run from the report page to the real brokers and back, through Celery.

Everything runs as it does in production, in processes of its own: the web server
(`manage.py runserver`), a Celery demo worker, a Redis of this test's own and a SQLite file
they share (tests/worker/support.py). The local clusters are registered as targets the way
`make brokers` does (`manage.py register_local_brokers`), plus one registered target nobody
runs. The test owns a report (its session is made on the server, as the wizard would leave
it), opens the report page, and posts the page's own form with the fields a user changes:
live, the targets, one scenario ticked. Then it reads the run page as the user would.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser

import pytest
import requests

from tests.worker import conftest as worker_fixtures
from tests.worker.support import BASE_DIR, Workers, free_port, manage

pytestmark = [pytest.mark.live, pytest.mark.worker]
# The worker tests' own Redis and shared SQLite file (tests/worker/conftest.py).
redis_server = worker_fixtures.redis_server
environment = worker_fixtures.environment

# Live runs take longer than the worker tests' embedded ones: limits a live run fits in.
LIVE_LIMITS = {
    "CELERY_VISIBILITY_TIMEOUT": "900",
    "DEMO_RUN_SOFT_TIME_LIMIT": "600",
    "DEMO_RUN_TIME_LIMIT": "660",
    # Longer than a client call may block (10 s), shorter than the default minute.
    "DEMO_RUN_HEARTBEAT_TIMEOUT": "20",
}
WAIT_S = 600  # a bound on waiting for the run, never an assertion about speed

SETUP = """
from django.contrib.sessions.backends.db import SessionStore
from advisor.demoruns.models import BrokerTarget
from advisor.ownership import SESSION_ASSESSMENTS
from advisor.rulesets.services import ruleset_load_default
from tests.factories import submitted_assessment

ruleset_load_default()
assessment, report = submitted_assessment("telemetry_lake")
session = SessionStore()
session[SESSION_ASSESSMENTS] = [str(assessment.pk)]
session.create()
BrokerTarget.objects.create(
    name="stopped Kafka", product="kafka", addresses="127.0.0.1:{port}", enabled=True
)
print(session.session_key, report.pk)
"""


class FormReader(HTMLParser):
    """The fields a browser would submit from one form: inputs, ticked boxes, selects."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.action = ""
        self.fields: dict[str, str] = {}
        self.options: dict[str, dict[str, str]] = {}  # select name -> label -> value
        self._select: str | None = None
        self._option: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and attributes.get("id") == self.form_id:
            self.inside, self.action = True, attributes.get("action", "")
        if not self.inside:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind != "checkbox" or "checked" in attributes:
                self.fields[name] = attributes.get("value", "on" if kind == "checkbox" else "")
        elif tag == "select" and name:
            self._select = name
            self.options[name] = {}
        elif tag == "option" and self._select:
            self._option = attributes.get("value", "")
            if "selected" in attributes or self._select not in self.fields:
                self.fields[self._select] = self._option

    def handle_data(self, data):
        if self._select and self._option is not None and data.strip():
            self.options[self._select][data.strip()] = self._option
            self._option = None

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "form" and self.inside:
            self.inside = False


@pytest.fixture
def site(environment, tmp_path, live_targets):
    """(base URL, a requests session that owns a report, the report's id, workers)."""
    env = {**environment[0], **LIVE_LIMITS}
    manage(env, "register_local_brokers")
    session_key, report_id = manage(
        env, "shell", "-c", SETUP.format(port=free_port())
    ).stdout.split()[-2:]
    port = free_port()
    log = open(tmp_path / "web.log", "wb")  # noqa: SIM115 (closed by the OS)
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    workers = Workers(env, tmp_path)
    workers.start()
    base = f"http://127.0.0.1:{port}"
    browser = requests.Session()
    browser.cookies.set("sessionid", session_key, domain="127.0.0.1")
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(requests.ConnectionError):
            if browser.get(f"{base}/", timeout=10).status_code == 200:
                break
        if time.monotonic() > deadline or server.poll() is not None:
            pytest.fail(f"the web server did not start:\n{(tmp_path / 'web.log').read_text()}")
        time.sleep(0.2)
    yield base, browser, report_id, workers
    workers.stop_all()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=20)


def queue_from_the_report_page(base, browser, report_id, *, kafka: str, artemis: str) -> str:
    """Open the report page, fill its demo form as a user would, post it; the new run's id."""
    page = browser.get(f"{base}/reports/{report_id}/", timeout=30)
    assert page.status_code == 200
    before = set(re.findall(r'id="run-([0-9a-f-]{36})"', page.text))
    form = FormReader("demo-queue")
    form.feed(page.text)
    assert (
        form.options["runs-on-engine"][
            "On the real brokers: Apache Kafka and Apache ActiveMQ Artemis"
        ]
        == "live"
    )
    fields = {
        **form.fields,
        "runs-on-engine": "live",
        "runs-on-kafka_target": form.options["runs-on-kafka_target"][kafka],
        "runs-on-artemis_target": form.options["runs-on-artemis_target"][artemis],
        "replay-chosen": "on",
        "replay-messages": "50",
        "replay-late_consumers": "1",
    }
    posted = browser.post(
        f"{base}{form.action}",
        data=fields,
        headers={"Referer": page.url},
        timeout=60,
    )
    assert posted.status_code == 200 and posted.history, posted.text[-2000:]  # redirected back
    (run_id,) = set(re.findall(r'id="run-([0-9a-f-]{36})"', posted.text)) - before
    return run_id


def finished_page(base, browser, run_id, workers) -> str:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        page = browser.get(f"{base}/demos/{run_id}/", timeout=30).text
        if "status-succeeded" in page or "status-failed" in page:
            return page
        time.sleep(1)
    pytest.fail(f"the run did not finish within {WAIT_S} s\n{workers.logs()}")


def test_a_live_run_queued_on_the_report_page_runs_on_the_brokers_and_shows_them(site):
    base, browser, report_id, workers = site
    run_id = queue_from_the_report_page(
        base,
        browser,
        report_id,
        kafka="local Kafka (Apache Kafka)",
        artemis="local Artemis (Apache ActiveMQ Artemis)",
    )

    page = finished_page(base, browser, run_id, workers)

    assert "status-succeeded" in page, page[-3000:]
    assert "live engine" in page
    assert (
        "Measured on Apache ActiveMQ Artemis 2.40.0 (local Artemis) and "
        "Apache Kafka 4.2.0 (local Kafka)." in page
    )
    assert 'data-plotly="demo-' in page  # its charts


def test_a_live_run_on_a_stopped_target_fails_naming_it(site):
    base, browser, report_id, workers = site
    run_id = queue_from_the_report_page(
        base,
        browser,
        report_id,
        kafka="stopped Kafka (Apache Kafka)",
        artemis="local Artemis (Apache ActiveMQ Artemis)",
    )

    page = finished_page(base, browser, run_id, workers)

    assert "status-failed" in page
    error = re.search(r"<strong>This run failed.</strong>(.*?)</p>", page, re.S).group(1)
    assert "stopped Kafka" in error and "did not answer" in error
