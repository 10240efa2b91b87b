"""Limits on expensive work: rate limits per client, 429 pages, bounded lists."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from redis.exceptions import ConnectionError as RedisConnectionError

from advisor.limits import ForgivingRedisCache, client_ip, rate_in_words, wait_in_words
from advisor.ownership import SESSION_ASSESSMENTS
from advisor.reports.models import ShareLink
from advisor.reports.sharing import share_link_create
from questionnaire.models import Assessment
from tests.conftest import load_personas
from tests.factories import submitted_assessment

PERSONAS = load_personas()


def limit(settings, group, rate):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, group: [rate]}


def test_rates_and_waits_read_as_words():
    assert rate_in_words("30/m") == "at most 30 per minute"
    assert rate_in_words("5/10m") == "at most 5 per 10 minutes"
    assert rate_in_words("300/h") == "at most 300 per hour"
    assert wait_in_words(1) == "1 second" and wait_in_words(45) == "45 seconds"
    assert wait_in_words(600) == "10 minutes"


def test_the_client_address_comes_from_trusted_proxies_only(settings):
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"  # no proxy: the header is the client's own words
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.5"  # what our proxy saw, not what was claimed
    settings.TRUSTED_PROXY_COUNT = 3
    assert client_ip(request) == "10.0.0.2"  # fewer entries than proxies: not trusted
    settings.TRUSTED_PROXY_COUNT = 1
    forged = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-address")
    assert client_ip(forged) == "10.0.0.2"


def test_a_redis_outage_lets_requests_through_uncounted(monkeypatch):
    cache = ForgivingRedisCache("redis://127.0.0.1:1/0", {})

    def refuse(*args, **kwargs):
        raise RedisConnectionError("refused")

    monkeypatch.setattr("django.core.cache.backends.redis.RedisCache.add", refuse)
    monkeypatch.setattr("django.core.cache.backends.redis.RedisCache.incr", refuse)
    monkeypatch.setattr("django.core.cache.backends.redis.RedisCache.get", refuse)
    assert cache.add("k", 1, 60) is False
    assert cache.incr("k") is None
    assert cache.get("k", 0) == 0


@pytest.mark.django_db
def test_starting_assessments_is_rate_limited_with_a_page_saying_when(settings):
    limit(settings, "assessment_new", "2/m")
    client = Client()
    for _ in range(2):
        assert client.post("/assessments/new/", {"title": "ok"}).status_code == 302
    response = client.post("/assessments/new/", {"title": "third"})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    page = response.content.decode()
    assert "at most 2 per minute" in page and "try again in" in page
    assert Assessment.objects.count() == 2


@pytest.mark.django_db
def test_submitting_is_rate_limited_and_the_answers_stay(settings, published_ruleset):
    limit(settings, "submit", "1/m")
    client = Client()
    ids = []
    for _ in range(2):
        client.post("/assessments/new/", {"title": "t"})
        assessment = Assessment.objects.order_by("-created_at").first()
        assessment.answers = dict(PERSONAS["telemetry_lake"]["answers"])
        assessment.save()
        ids.append(assessment.pk)
    last_step = "/assessments/{}/team/"
    first = client.post(last_step.format(ids[0]), {"action": "submit", "step_questions": ""})
    assert first.status_code == 302
    second = client.post(last_step.format(ids[1]), {"action": "submit", "step_questions": ""})
    assert second.status_code == 429
    assert int(second["Retry-After"]) >= 1
    assert "at most 1 per minute" in second.content.decode()
    assert not Assessment.objects.get(pk=ids[1]).is_submitted
    assert Assessment.objects.get(pk=ids[1]).answers  # nothing lost


@pytest.fixture
def owned(client, published_ruleset):
    assessment, report = submitted_assessment("telemetry_lake")
    session = client.session
    session[SESSION_ASSESSMENTS] = [str(assessment.pk)]
    session.save()
    return assessment, report


@pytest.mark.django_db
def test_making_share_links_is_rate_limited(client, owned, settings):
    limit(settings, "share_link_new", "3/h")
    _, report = owned
    url = reverse("advisor:share_link_new", args=[report.pk])
    for _ in range(3):
        assert client.post(url, {"expires": "7d"}).status_code == 302
    response = client.post(url, {"expires": "7d"})
    assert response.status_code == 429
    assert "at most 3 per hour" in response.content.decode()
    assert ShareLink.objects.count() == 3


@pytest.mark.django_db
def test_the_share_links_of_a_report_are_listed_a_page_at_a_time(client, owned):
    _, report = owned
    for number in range(12):
        share_link_create(report=report, label=f"link {number:02}")
    url = reverse("advisor:report", args=[report.pk])
    first = client.get(url).content.decode()
    assert "link 11" in first and "link 02" in first and "link 01" not in first
    assert "page 1 of 2 (12 in all)" in first
    second = client.get(url, {"links_page": 2}).content.decode()
    assert "link 01" in second and "link 00" in second and "link 11" not in second


@pytest.mark.django_db
def test_the_home_page_lists_a_visitor_s_assessments_a_page_at_a_time(client):
    for number in range(13):
        client.post("/assessments/new/", {"title": f"Assessment {number:02}"})
    first = client.get("/").content.decode()
    assert "Assessment 12" in first and "Assessment 03" in first
    assert "Assessment 02" not in first
    assert "page 1 of 2 (13 in all)" in first
    second = client.get("/", {"page": 2}).content.decode()
    assert "Assessment 02" in second and "Assessment 00" in second
    assert "Assessment 12" not in second
    assert client.get("/", {"page": "x\u202e"}).status_code == 200  # a bad page number is page 1


@pytest.mark.django_db
def test_the_report_shows_the_newest_demo_runs_and_counts_the_rest(client, owned):
    from advisor.demoruns.models import DemoRun
    from advisor.demoruns.presentation import RUNS_SHOWN

    assessment, report = owned
    DemoRun.objects.bulk_create(
        [
            DemoRun(assessment=assessment, scenario="replay", status=DemoRun.Status.FAILED)
            for _ in range(RUNS_SHOWN + 3)
        ]
    )
    page = client.get(reverse("advisor:report", args=[report.pk])).content.decode()
    assert page.count('<article class="demo-run status-') == RUNS_SHOWN
    assert f"And 3 older runs, not shown: the newest {RUNS_SHOWN} are." in page
