"""The rule-set admin's own pages: new draft, impact preview and publish, weight changes,
rules-file export and import. Each is a function the RuleSetAdmin routes to (``get_urls``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from advisor.engine.answers import AnswersError, validate_answers
from advisor.engine.bank import default_bank
from advisor.engine.datafiles import DataFileError
from advisor.engine.describe import describe_weight_flip
from advisor.engine.scoring import score, weight_flips
from advisor.engine.sides import OUTCOME_NAMES
from advisor.reports.models import Report
from advisor.rulesets import services as rulesets
from advisor.rulesets.models import RuleSet

if TYPE_CHECKING:
    from advisor.admin.rulesets import RuleSetAdmin

DRAFT_CREATED = "Draft {version} copied from {source}: edit its weights below, then preview."
DRAFT_PUBLISHED = (
    "Published {version}: new assessments are scored with it. "
    "Reports made before keep the ruleset they were scored with."
)
DRAFT_IMPORTED = "Imported {count} rules from {name} as draft {version}."
COPY_ONE_AT_A_TIME = "Select exactly one ruleset to copy as a draft."
PUBLISH_FROM_PREVIEW = "Only a draft can be previewed and published; {version} is published."


class ImportRulesForm(forms.Form):
    file = forms.FileField(
        label="Rules file",
        help_text="A JSON file in the format of advisor/data/rules.json (as Export writes it).",
    )


def rules_url(ruleset: RuleSet) -> str:
    """The rules list filtered to one ruleset: where its weights are edited."""
    return reverse("admin:advisor_rule_changelist") + f"?ruleset__id__exact={ruleset.pk}"


def page_context(request: HttpRequest, model_admin: RuleSetAdmin) -> dict:
    """What every admin page's template expects: the site's context and the model's options."""
    return {**model_admin.admin_site.each_context(request), "opts": model_admin.opts}


def check_can_create(request: HttpRequest) -> None:
    if not request.user.has_perm("advisor.add_ruleset"):
        raise PermissionDenied


def open_draft(draft: RuleSet) -> HttpResponseRedirect:
    return redirect(rules_url(draft))


@admin.action(description="Copy the selected ruleset as a new draft")
def copy_as_draft(model_admin: RuleSetAdmin, request: HttpRequest, queryset: QuerySet[RuleSet]):
    check_can_create(request)
    if queryset.count() != 1:
        model_admin.message_user(request, COPY_ONE_AT_A_TIME, messages.ERROR)
        return None
    source = queryset.get()
    draft = rulesets.ruleset_new_draft(user=request.user, source=source)
    message = DRAFT_CREATED.format(version=draft.version, source=source.version)
    model_admin.message_user(request, message)
    return open_draft(draft)


@require_POST
def new_draft_view(request: HttpRequest, model_admin: RuleSetAdmin) -> HttpResponse:
    check_can_create(request)
    try:
        draft = rulesets.ruleset_new_draft(user=request.user)
    except ValidationError as error:
        for message in error.messages:
            model_admin.message_user(request, message, messages.ERROR)
        return redirect("admin:advisor_ruleset_changelist")
    model_admin.message_user(
        request, DRAFT_CREATED.format(version=draft.version, source=draft.based_on.version)
    )
    return open_draft(draft)


def impact_view(request: HttpRequest, model_admin: RuleSetAdmin, object_id: str) -> HttpResponse:
    draft = get_object_or_404(RuleSet, pk=object_id)
    if draft.is_published:
        model_admin.message_user(
            request, PUBLISH_FROM_PREVIEW.format(version=draft.version), messages.WARNING
        )
        return redirect("admin:advisor_ruleset_change", draft.pk)
    if not model_admin.has_view_or_change_permission(request, draft):
        raise PermissionDenied
    publish_errors = []
    if request.method == "POST":
        if not model_admin.has_change_permission(request, draft):
            raise PermissionDenied
        try:
            rulesets.ruleset_publish(ruleset=draft, user=request.user)
        except ValidationError as error:
            publish_errors = error.messages
        else:
            model_admin.message_user(request, DRAFT_PUBLISHED.format(version=draft.version))
            return redirect("admin:advisor_ruleset_changelist")
    reports = Report.objects.latest_per_assessment()
    impact = rulesets.ruleset_impact(
        draft=draft, reports=reports, changed_page=request.GET.get("page", 1)
    )
    context = {
        **page_context(request, model_admin),
        "original": draft,
        "title": f"Impact of publishing {draft.version}",
        "impact": impact,
        "errors": publish_errors or rulesets.ruleset_errors(ruleset=draft),
        "chart": impact_chart(impact),
        "weight_flips": impact_weight_flips(impact, reports),
        "outcome_names": OUTCOME_NAMES,
        "can_publish": model_admin.has_change_permission(request, draft),
    }
    return TemplateResponse(request, "admin/advisor/ruleset/impact.html", context)


def changes_view(request: HttpRequest, model_admin: RuleSetAdmin, object_id: str) -> HttpResponse:
    ruleset = get_object_or_404(RuleSet, pk=object_id)
    if not model_admin.has_view_or_change_permission(request, ruleset):
        raise PermissionDenied
    context = {
        **page_context(request, model_admin),
        "original": ruleset,
        "title": f"Weight changes in {ruleset.version}",
        "changes": rulesets.ruleset_rule_changes(ruleset=ruleset),
    }
    return TemplateResponse(request, "admin/advisor/ruleset/changes.html", context)


def export_view(request: HttpRequest, model_admin: RuleSetAdmin, object_id: str) -> HttpResponse:
    ruleset = get_object_or_404(RuleSet, pk=object_id)
    if not model_admin.has_view_or_change_permission(request, ruleset):
        raise PermissionDenied
    response = HttpResponse(
        rulesets.ruleset_export(ruleset=ruleset), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="rules-{ruleset.version}.json"'
    return response


def import_view(request: HttpRequest, model_admin: RuleSetAdmin) -> HttpResponse:
    check_can_create(request)
    form = ImportRulesForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            data = rulesets.rules_file_parse(upload.read(), name=upload.name)
            draft = rulesets.ruleset_import(data=data, user=request.user, name=upload.name)
        except DataFileError as error:
            form.add_error("file", str(error))
        else:
            model_admin.message_user(
                request,
                DRAFT_IMPORTED.format(
                    count=draft.rules.count(), name=upload.name, version=draft.version
                ),
            )
            return open_draft(draft)
    context = {
        **page_context(request, model_admin),
        "title": "Import a rules file as a new draft",
        "form": form,
    }
    return TemplateResponse(request, "admin/advisor/ruleset/import.html", context)


# The impact page lists weight flips for this many assessments at most (each costs a few
# milliseconds of re-scoring): those whose verdict changes first, then the newest others.
WEIGHT_FLIP_ASSESSMENTS = 20
WEIGHT_FLIPS_EACH = 3


def impact_weight_flips(impact: rulesets.RulesetImpact, reports) -> list[dict]:
    """For the assessments whose verdict changes, then the newest of the others (``reports``),
    the single weights of the draft nearest to changing their verdict.

    Only administrators can act on a weight, so only they see these (the architects'
    report lists the answers that would change their verdict).
    """
    engine_rules = impact.draft.to_engine()
    bank = default_bank()
    changed = [row.report for row in impact.changed[:WEIGHT_FLIP_ASSESSMENTS]]
    room = WEIGHT_FLIP_ASSESSMENTS - len(changed)
    others = reports.exclude(pk__in=[report.pk for report in changed]).order_by("-created_at")
    rows = []
    for report in [*changed, *(others[:room] if room > 0 else [])]:
        try:
            answers = validate_answers(report.answers, bank, fill_defaults=True)
        except AnswersError:
            continue  # counted apart on the page as unscorable
        recommendation = score(answers, engine_rules).recommendation
        flips = weight_flips(answers, engine_rules, recommendation)
        if flips:
            rows.append(
                {
                    "assessment": report,
                    "recommendation": recommendation,
                    "flips": [describe_weight_flip(flip) for flip in flips[:WEIGHT_FLIPS_EACH]],
                }
            )
    return rows


def impact_chart(impact: rulesets.RulesetImpact) -> dict | None:
    """A Plotly histogram: how many assessments' Kafka share moves by how many points."""
    if not impact.total:
        return None
    shifts = [value for value, _, _ in impact.shifts]
    keeps = [count - changing for _, count, changing in impact.shifts]
    changes = [changing for _, _, changing in impact.shifts]
    reach = max([abs(value) for value in shifts] + [1.0])
    return {
        "data": [
            {
                "type": "bar",
                "name": "keeps its verdict",
                "x": shifts,
                "y": keeps,
                "marker": {"color": "#79aec8"},
                "hovertemplate": "shift %{x:+.1f} points: %{y} keep their verdict<extra></extra>",
            },
            {
                "type": "bar",
                "name": "changes verdict",
                "x": shifts,
                "y": changes,
                "marker": {"color": "#ba2121", "pattern": {"shape": "/"}},
                "hovertemplate": "shift %{x:+.1f} points: %{y} change verdict<extra></extra>",
            },
        ],
        "layout": {
            # No title: the figure's caption says what it shows, and wraps on a phone.
            "barmode": "stack",
            "xaxis": {
                "title": {"text": "points of 100 (negative: towards the broker)"},
                "zeroline": True,
                "range": [-1.1 * reach, 1.1 * reach],
                "fixedrange": True,
            },
            "yaxis": {"title": {"text": "assessments"}, "rangemode": "tozero", "fixedrange": True},
            "legend": {"orientation": "h", "y": -0.25},
            "height": 360,
            "margin": {"t": 20, "r": 20, "l": 60},
        },
        "config": {"displaylogo": False, "responsive": True},
    }
