"""The rules admin as an administrator uses it: its own forms, through the test client."""

import io
import json
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from advisor.admin import rulesets as rules_admin
from advisor.engine.rules import DEFAULT_RULES_PATH
from advisor.models import Report, Rule, RuleSet
from advisor.rulesets import services as rulesets
from tests.conftest import load_personas
from tests.factories import PASSWORD, UserFactory, submitted_assessment

pytestmark = pytest.mark.django_db

LEDGER = "event_sourced_ledger_with_legacy_clients"


@pytest.fixture
def admin_user():
    return UserFactory(admin=True, username="ada")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def draft(published_ruleset, admin_user):
    return rulesets.ruleset_new_draft(user=admin_user)


def rules_url(ruleset: RuleSet) -> str:
    return reverse("admin:advisor_rule_changelist") + f"?ruleset__id__exact={ruleset.pk}"


def post_rules_list(client, ruleset: RuleSet, changes: dict[str, dict]):
    """Post the rules list's own formset, as the browser would, with some rows changed."""
    url = rules_url(ruleset)
    formset = client.get(url).context["cl"].formset
    management = formset.management_form
    data = {management.add_prefix(name): value for name, value in management.initial.items()}
    for form in formset.forms:
        rule = form.instance
        values = {"weight": str(rule.weight), "enabled": rule.enabled}
        values.update(changes.get(rule.rule_id, {}))
        data[form.add_prefix("id")] = rule.pk
        data[form.add_prefix("weight")] = values["weight"]
        if values["enabled"]:
            data[form.add_prefix("enabled")] = "on"
    data["_save"] = "Save"
    return client.post(url, data)


def weight(ruleset: RuleSet, rule_id: str) -> Decimal:
    return ruleset.rules.get(rule_id=rule_id).weight


# -- who may come in ------------------------------------------------------------------


def admin_pages(ruleset: RuleSet) -> list[str]:
    rule = ruleset.rules.get(rule_id="xa-needs-broker")
    return [
        reverse("admin:advisor_ruleset_changelist"),
        reverse("admin:advisor_ruleset_change", args=[ruleset.pk]),
        rules_url(ruleset),
        reverse("admin:advisor_rule_change", args=[rule.pk]),
        reverse("admin:advisor_ruleset_impact", args=[ruleset.pk]),
        reverse("admin:advisor_ruleset_export", args=[ruleset.pk]),
        reverse("admin:advisor_ruleset_changes", args=[ruleset.pk]),
        reverse("admin:advisor_ruleset_import"),
    ]


@pytest.mark.parametrize("who", ["anonymous", "signed-in non-staff"])
def test_non_staff_get_the_admin_login_page_not_the_data(client, draft, who):
    rule = draft.rules.get(rule_id="xa-needs-broker")
    if who != "anonymous":
        client.force_login(UserFactory(username="visitor"))

    for url in admin_pages(draft):
        response = client.get(url, follow=True)
        assert response.redirect_chain[0][0].startswith(f"/admin/login/?next={url[:12]}"), url
        page = response.content.decode()
        assert 'id="login-form"' in page
        assert "xa-needs-broker" not in page and rule.title not in page

    response = client.post(reverse("admin:advisor_ruleset_new_draft"))
    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    assert RuleSet.objects.count() == 2


def test_staff_sign_in_with_the_admin_login_form_and_see_the_rulesets(client, published_ruleset):
    UserFactory(admin=True, username="ada")

    response = client.post(
        reverse("admin:login") + "?next=/admin/advisor/ruleset/",
        {"username": "ada", "password": PASSWORD},
        follow=True,
    )

    assert response.status_code == 200
    assert "v1" in response.content.decode()
    assert "New draft from v1" in response.content.decode()


# -- published rulesets are read-only -------------------------------------------------


def test_a_published_ruleset_and_its_rules_are_read_only(admin_client, published_ruleset):
    page = admin_client.get(reverse("admin:advisor_ruleset_change", args=[published_ruleset.pk]))
    assert 'name="_save"' not in page.content.decode()

    rules_page = admin_client.get(rules_url(published_ruleset))
    assert rules_page.context["cl"].formset is None
    assert 'name="form-0-weight"' not in rules_page.content.decode()
    assert "v1 is published</strong> and read-only" in rules_page.content.decode()

    rule = published_ruleset.rules.get(rule_id="xa-needs-broker")
    url = reverse("admin:advisor_rule_change", args=[rule.pk])
    assert 'name="weight"' not in admin_client.get(url).content.decode()
    assert admin_client.post(url, {"weight": "5", "enabled": "on"}).status_code == 403
    assert weight(published_ruleset, "xa-needs-broker") == Decimal("1.00")


def test_a_forged_post_to_the_published_rules_list_changes_nothing(
    admin_client, published_ruleset, draft
):
    # An unfiltered list holds both versions: the published rows are disabled.
    url = reverse("admin:advisor_rule_changelist") + "?all="
    response = admin_client.get(url)
    formset = response.context["cl"].formset
    published_forms = [form for form in formset if form.instance.ruleset.is_published]
    assert published_forms and all(form.fields["weight"].disabled for form in published_forms)

    data = {
        formset.management_form.add_prefix(name): value
        for name, value in formset.management_form.initial.items()
    }
    for form in formset.forms:
        data[form.add_prefix("id")] = form.instance.pk
        data[form.add_prefix("weight")] = "7"
        data[form.add_prefix("enabled")] = "on"
    data["_save"] = "Save"
    admin_client.post(url, data)

    assert set(published_ruleset.rules.values_list("weight", flat=True)) == {Decimal("1.00")}
    assert set(draft.rules.values_list("weight", flat=True)) == {Decimal("7.00")}


# -- drafts ---------------------------------------------------------------------------


def test_new_draft_copies_the_published_ruleset_and_opens_its_rules(
    admin_client, published_ruleset, admin_user
):
    response = admin_client.post(reverse("admin:advisor_ruleset_new_draft"), follow=True)

    draft = RuleSet.objects.get(version="v2")
    assert draft.state == RuleSet.State.DRAFT and draft.based_on == published_ruleset
    assert draft.created_by == admin_user
    assert response.redirect_chain[-1][0] == rules_url(draft)
    page = response.content.decode()
    assert "Draft v2 copied from v1" in page
    assert 'name="form-0-weight"' in page and 'name="form-0-enabled"' in page


def test_the_copy_action_makes_a_draft_of_the_selected_ruleset(admin_client, draft):
    admin_client.post(
        reverse("admin:advisor_ruleset_changelist"),
        {"action": "copy_as_draft", "_selected_action": [draft.pk]},
    )
    copy = RuleSet.objects.get(version="v3")
    assert copy.based_on == draft


def test_the_rules_list_opens_on_the_newest_draft(admin_client, draft):
    response = admin_client.get(reverse("admin:advisor_rule_changelist"))
    assert response.status_code == 302 and response.url.endswith(rules_url(draft))


def test_a_rule_page_shows_rationale_citations_and_condition_in_words(admin_client, draft):
    rule = draft.rules.get(rule_id="xa-needs-broker")

    page = admin_client.get(reverse("admin:advisor_rule_change", args=[rule.pk])).content.decode()

    assert rule.rationale.split(".")[0] in page
    assert ", ".join(rule.citations) in page
    assert "is “Yes”" in page  # the yes/no condition, in words
    assert 'name="weight"' in page and 'name="enabled"' in page
    assert 'name="rationale"' not in page and 'name="points"' not in page


def test_the_rules_list_shows_each_condition_in_words(admin_client, draft):
    page = admin_client.get(rules_url(draft)).content.decode()
    assert "When (in words)" in page
    assert "includes" in page and " is " in page


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("11", rules_admin.WEIGHT_OUT_OF_RANGE.format(rule="xa-needs-broker") % {"value": 11}),
        ("-1", rules_admin.WEIGHT_OUT_OF_RANGE.format(rule="xa-needs-broker") % {"value": -1}),
        ("abc", rules_admin.WEIGHT_NOT_A_NUMBER.format(rule="xa-needs-broker")),
        ("", rules_admin.WEIGHT_NOT_A_NUMBER.format(rule="xa-needs-broker")),
        ("1.234", rules_admin.WEIGHT_TOO_PRECISE.format(rule="xa-needs-broker")),
    ],
)
def test_a_bad_weight_gets_an_error_naming_the_rule_and_the_field(
    admin_client, draft, typed, message
):
    response = post_rules_list(
        admin_client,
        draft,
        {"xa-needs-broker": {"weight": typed}, "selectors": {"weight": "2"}},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Please correct the error below." in page
    (form,) = [form for form in response.context["cl"].formset if form.errors]
    assert form.instance.rule_id == "xa-needs-broker"
    assert form.errors["weight"] == [message]
    assert message.startswith("rule 'xa-needs-broker', field 'weight':")
    assert weight(draft, "xa-needs-broker") == Decimal("1.00")
    assert weight(draft, "selectors") == Decimal("1.00"), "nothing is saved while a row is wrong"


# -- the whole story: edit, preview, publish ------------------------------------------


def test_the_changed_assessments_are_listed_a_page_at_a_time_oldest_first(
    admin_client, published_ruleset, monkeypatch
):
    monkeypatch.setattr(rulesets, "IMPACT_PAGE_SIZE", 2)
    for number in range(1, 6):
        submitted_assessment(LEDGER, title=f"Ledger {number}")
    submitted_assessment("order_fulfilment_jms", title="Orders")
    admin_client.post(reverse("admin:advisor_ruleset_new_draft"))
    draft = RuleSet.objects.get(version="v2")
    post_rules_list(admin_client, draft, {"replay-forever": {"weight": "0"}})
    url = reverse("admin:advisor_ruleset_impact", args=[draft.pk])

    def listed(page) -> list[str]:
        response = admin_client.get(url, {"page": page})
        assert response.status_code == 200
        html = response.content.decode()
        assert "<strong>5</strong> of 6 submitted assessments" in html
        table = html[html.index('id="changed-assessments"') :]
        table = table[: table.index("</table>")]
        return [title for title in (f"Ledger {n}" for n in range(1, 6)) if title in table]

    assert listed(1) == ["Ledger 1", "Ledger 2"]
    assert listed(2) == ["Ledger 3", "Ledger 4"]
    assert listed(3) == ["Ledger 5"]
    assert listed("not a number") == ["Ledger 1", "Ledger 2"]  # the first page
    assert listed(99) == ["Ledger 5"]  # the last page
    page = admin_client.get(url, {"page": 2}).content.decode()
    assert "3 to 4 of the 5, oldest first." in page
    assert "Page 2 of 3" in page
    assert 'href="?page=1#changed-assessments"' in page
    assert 'href="?page=3#changed-assessments"' in page


def test_edit_weights_preview_and_publish_then_new_assessments_use_them(
    admin_client, published_ruleset, admin_user, tmp_path
):
    _, old_report = submitted_assessment(LEDGER, title="Ledger")
    submitted_assessment("order_fulfilment_jms", title="Orders")
    old_snapshot = (old_report.ruleset_id, old_report.result, old_report.recommendation)
    assert old_report.recommendation == "hybrid"

    admin_client.post(reverse("admin:advisor_ruleset_new_draft"))
    draft = RuleSet.objects.get(version="v2")
    response = post_rules_list(
        admin_client,
        draft,
        {"replay-forever": {"weight": "0"}, "selectors": {"enabled": False}},
    )
    assert response.status_code == 302
    assert weight(draft, "replay-forever") == Decimal("0.00")
    assert draft.rules.get(rule_id="selectors").enabled is False

    preview = admin_client.get(reverse("admin:advisor_ruleset_impact", args=[draft.pk]))
    page = preview.content.decode()
    start = page.index('id="impact-summary"')
    summary = page[start : page.index("</p>", start)]
    assert "<strong>1</strong> of 2 submitted assessments" in summary
    changed_table = page[page.index('id="changed-assessments"') :]
    changed_table = changed_table[: changed_table.index("</table>")]
    assert "Ledger" in changed_table and "Orders" not in changed_table
    assert "hybrid" in changed_table and "artemis" in changed_table
    assert 'src="/static/vendor/plotly/plotly-basic.min.js"' in page
    assert "replay-forever" in page[page.index('id="rule-differences"') :]
    assert 'value="Publish v2"' in page and "disabled" not in page[page.index("publish-form") :]

    response = admin_client.post(
        reverse("admin:advisor_ruleset_impact", args=[draft.pk]), {"publish": "Publish v2"}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert RuleSet.objects.current() == draft
    assert (draft.published_by, draft.state) == (admin_user, RuleSet.State.PUBLISHED)
    listing = admin_client.get(response.url).content.decode()
    assert "Published v2: new assessments are scored with it." in listing

    _, new_report = submitted_assessment(LEDGER, title="Ledger again")
    assert new_report.ruleset == draft
    assert new_report.recommendation == "artemis"
    assert "replay-forever" not in {reason["rule"] for reason in new_report.result["reasons"]}

    answers_file = tmp_path / "ledger.json"
    answers_file.write_text(json.dumps(load_personas()[LEDGER]["answers"]))
    out = io.StringIO()
    call_command("recommend", str(answers_file), "--format", "json", stdout=out)
    assert json.loads(out.getvalue())["ruleset"] == "v2"
    assert json.loads(out.getvalue())["recommendation"] == "artemis"

    old_report = Report.objects.get(pk=old_report.pk)
    assert (old_report.ruleset_id, old_report.result, old_report.recommendation) == old_snapshot
    assert old_report.ruleset.version == "v1" and old_report.ruleset.is_published


def test_a_draft_that_silences_a_side_shows_why_and_cannot_be_published(
    admin_client, draft, published_ruleset
):
    kafka_rules = draft.rules.filter(favours="kafka").values_list("rule_id", flat=True)
    post_rules_list(admin_client, draft, {rule_id: {"enabled": False} for rule_id in kafka_rules})
    url = reverse("admin:advisor_ruleset_impact", args=[draft.pk])

    preview = admin_client.get(url).content.decode()
    assert "v2 cannot be published yet" in preview
    assert "every rule favouring Event streaming (Kafka) is switched off" in preview
    assert 'value="Publish v2" disabled' in preview

    response = admin_client.post(url, {"publish": "Publish v2"})
    assert response.status_code == 200
    assert "every rule favouring Event streaming (Kafka)" in response.content.decode()
    draft.refresh_from_db()
    assert draft.state == RuleSet.State.DRAFT
    assert RuleSet.objects.current() == published_ruleset


def test_the_impact_page_of_a_published_ruleset_sends_you_to_its_page(
    admin_client, published_ruleset
):
    response = admin_client.get(
        reverse("admin:advisor_ruleset_impact", args=[published_ruleset.pk])
    )
    assert response.url == reverse("admin:advisor_ruleset_change", args=[published_ruleset.pk])


def test_plotly_is_served_from_our_own_static_files():
    path = finders.find("vendor/plotly/plotly-basic.min.js")
    assert path is not None
    with open(path, encoding="utf-8") as file:
        assert "plotly.js" in file.read(400)


# -- history --------------------------------------------------------------------------


def test_weight_changes_show_who_changed_what_from_what_to_what(admin_client, draft):
    post_rules_list(admin_client, draft, {"xa-needs-broker": {"weight": "2.5"}})

    page = admin_client.get(reverse("admin:advisor_ruleset_changes", args=[draft.pk]))
    rows = page.content.decode()
    table = rows[rows.index('id="weight-changes"') :]
    table = table[: table.index("</table>")]
    assert "<td>ada</td>" in table
    assert "<td>xa-needs-broker</td>" in table
    assert "<td>weight</td>" in table
    assert "<td>1.00</td>" in table and "<td>2.50</td>" in table
    assert table.count("<tr>") == 2, "one header row and the one change"

    rule = draft.rules.get(rule_id="xa-needs-broker")
    history = admin_client.get(reverse("admin:advisor_rule_history", args=[rule.pk]))
    assert history.status_code == 200
    assert "2.50" in history.content.decode()


# -- rules files ----------------------------------------------------------------------


def test_export_downloads_a_rules_file_in_the_default_format(admin_client, published_ruleset):
    response = admin_client.get(
        reverse("admin:advisor_ruleset_export", args=[published_ruleset.pk])
    )
    assert response["Content-Disposition"] == 'attachment; filename="rules-v1.json"'
    assert json.loads(response.content) == json.loads(DEFAULT_RULES_PATH.read_text())


def test_import_makes_a_new_draft_from_a_file(admin_client, published_ruleset):
    data = json.loads(DEFAULT_RULES_PATH.read_text())
    data["rules"][0]["weight"] = 3.5
    upload = SimpleUploadedFile("rules-edited.json", json.dumps(data).encode())

    response = admin_client.post(reverse("admin:advisor_ruleset_import"), {"file": upload})

    draft = RuleSet.objects.get(version="v2")
    assert response.url == rules_url(draft)
    assert weight(draft, data["rules"][0]["id"]) == Decimal("3.50")
    assert draft.state == RuleSet.State.DRAFT


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            json.dumps(
                {
                    **json.loads(DEFAULT_RULES_PATH.read_text()),
                    "rules": [
                        {**rule, "weight": 11} if rule["id"] == "selectors" else rule
                        for rule in json.loads(DEFAULT_RULES_PATH.read_text())["rules"]
                    ],
                }
            ),
            "bad.json: rule &#x27;selectors&#x27;, field &#x27;weight&#x27;: 11 is outside 0 to 10",
        ),
        ('{"version": ', "bad.json: line 1, column 13: invalid JSON"),
    ],
)
def test_a_bad_file_is_refused_naming_the_rule_and_field(
    admin_client, published_ruleset, content, message
):
    upload = SimpleUploadedFile("bad.json", content.encode())

    response = admin_client.post(reverse("admin:advisor_ruleset_import"), {"file": upload})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert RuleSet.objects.count() == 1


def test_rules_cannot_be_added_or_deleted_in_the_admin(admin_client, draft):
    rule = draft.rules.first()
    assert admin_client.get(reverse("admin:advisor_rule_add")).status_code == 403
    assert (
        admin_client.post(reverse("admin:advisor_rule_delete", args=[rule.pk])).status_code == 403
    )
    assert Rule.objects.filter(pk=rule.pk).exists()


def test_a_published_ruleset_cannot_be_deleted_but_a_draft_can(
    admin_client, published_ruleset, draft
):
    changelist = reverse("admin:advisor_ruleset_changelist")
    delete_page = reverse("admin:advisor_ruleset_delete", args=[published_ruleset.pk])
    assert admin_client.get(delete_page).status_code == 403
    admin_client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [published_ruleset.pk], "post": "yes"},
    )
    assert RuleSet.objects.filter(pk=published_ruleset.pk).exists()

    admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [draft.pk], "post": "yes"}
    )
    assert not RuleSet.objects.filter(pk=draft.pk).exists()


def test_reports_links_and_demo_runs_are_listed_read_only_for_staff(
    client, admin_user, published_ruleset
):
    from tests.factories import submitted_assessment

    _, report = submitted_assessment("telemetry_lake")
    client.force_login(admin_user)
    for name in ("report", "sharelink", "demorun"):
        response = client.get(f"/admin/advisor/{name}/")
        assert response.status_code == 200
        assert f"/admin/advisor/{name}/add/" not in response.content.decode()
    page = client.get(f"/admin/advisor/report/{report.pk}/change/").content.decode()
    assert "kafka" in page and 'type="submit" value="Save"' not in page


def test_the_impact_page_lists_the_weights_nearest_to_changing_each_verdict(
    admin_client, published_ruleset, admin_user
):
    submitted_assessment(LEDGER, title="Ledger")  # hybrid, two weights away from a verdict
    submitted_assessment("order_fulfilment_jms", title="Orders")  # none within 0-10
    draft = rulesets.ruleset_new_draft(user=admin_user)

    page = admin_client.get(reverse("admin:advisor_ruleset_impact", args=[draft.pk]))

    table = page.content.decode().split('id="weight-flips"')[1].split("</table>")[0]
    assert "<bdi>Ledger</bdi>" in table and "Orders" not in table
    assert "If the weight of rule" in table and "the recommendation would be" in table
    # The impact chart is drawn by the shared static script (no inline script).
    assert "<script>" not in page.content.decode()
