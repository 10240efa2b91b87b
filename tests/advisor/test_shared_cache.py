"""The shared report page is rendered once and served from the cache, never past its link.

advisor/reports/pagecache.py: a key per report and current ruleset version, forgotten on
revoke and when a demo run succeeds; the link is checked before the cache is read.
"""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from advisor.demoruns.services import demo_run_enqueue, demo_run_execute
from advisor.demos.drivers import run_scenario
from advisor.models import RuleSet, ShareLink
from advisor.ownership import SESSION_ASSESSMENTS
from advisor.reports.pagecache import shared_page_get, shared_page_key
from advisor.reports.sharing import share_link_create, share_link_revoke
from advisor.rulesets.services import ruleset_new_draft, ruleset_publish
from tests.factories import UserFactory, submitted_assessment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def shared(published_ruleset):
    """(report, link, token, url) of a shared report."""
    _, report = submitted_assessment("order_fulfilment_jms", title="Order platform")
    link, token = share_link_create(report=report)
    return report, link, token, reverse("advisor:shared", args=[token])


def test_a_second_visit_is_served_from_the_cache_with_one_query(shared, django_assert_num_queries):
    report, _, token, url = shared
    first = Client().get(url)
    assert first.status_code == 200

    with django_assert_num_queries(1):  # the link, its report and the current rules' version
        second = Client().get(url)

    assert second.status_code == 200
    assert second.content == first.content
    assert second["Cache-Control"] == "private, no-store"
    assert second["Referrer-Policy"] == "no-referrer"


def test_the_cached_page_holds_no_token_nor_anything_of_the_first_visitor(shared):
    report, _, token, url = shared
    owner = Client()
    session = owner.session
    session[SESSION_ASSESSMENTS] = [str(report.assessment_id)]
    session.save()
    spare, _ = share_link_create(report=report, label="spare")
    # Revoking leaves a message for the owner's next page: here, the shared one.
    owner.post(reverse("advisor:share_link_revoke", args=[report.pk, spare.pk]))

    page = owner.get(url).content.decode()
    cached = shared_page_get(shared_page_key(report_id=report.pk, ruleset_version="v1"))

    assert cached == page and token not in cached
    assert "is revoked" not in cached and "csrfmiddlewaretoken" not in cached
    assert "is revoked" in owner.get(reverse("advisor:report", args=[report.pk])).content.decode()
    assert 'href="report.json"' in page and 'href="adr.md"' in page
    exports = Client().get(url + "report.json")
    assert exports.status_code == 200 and exports["Content-Type"] == "application/json"


def test_an_expired_or_revoked_link_never_gets_the_cached_page(shared):
    report, link, _, url = shared
    other, other_token = share_link_create(report=report)
    other_url = reverse("advisor:shared", args=[other_token])
    assert Client().get(url).status_code == 200  # rendered and cached

    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    share_link_revoke(link=other)

    assert Client().get(url).status_code == 404
    assert Client().get(other_url).status_code == 404


def test_revoking_forgets_the_rendered_page(shared, django_capture_on_commit_callbacks):
    report, link, _, url = shared
    Client().get(url)
    key = shared_page_key(report_id=report.pk, ruleset_version="v1")
    assert shared_page_get(key) is not None

    with django_capture_on_commit_callbacks(execute=True):
        share_link_revoke(link=link)

    assert shared_page_get(key) is None


def test_new_rules_published_show_on_the_shared_page_at_once(shared):
    _, _, _, url = shared
    assert "the current rules are" not in Client().get(url).content.decode()
    admin = UserFactory(admin=True)

    ruleset_publish(ruleset=ruleset_new_draft(user=admin), user=admin)

    page = Client().get(url).content.decode()
    assert RuleSet.objects.current().version == "v2"
    assert "the current rules are v2" in page


def test_a_demo_run_that_succeeds_shows_on_the_shared_page_at_once(shared, tmp_path):
    report, _, _, url = shared
    before = Client().get(url).content.decode()  # rendered and cached without the run
    with mock.patch("advisor.demoruns.services.queue_execution"):
        run = demo_run_enqueue(
            assessment=report.assessment,
            scenario="replay",
            parameters={"messages": 50, "late_consumers": 1},
            owner_session="owner",
        )
    small = run_scenario("replay", run.parameters, workdir=tmp_path)
    with mock.patch("advisor.demoruns.services.run_scenario", return_value=small):
        demo_run_execute(run_id=run.pk)

    page = Client().get(url).content.decode()
    assert small["summary"] not in before and small["summary"] in page
