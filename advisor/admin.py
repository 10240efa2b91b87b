"""The admin for rulesets: copy a draft, tune weights, preview the impact, publish.

A published RuleSet and its rules are read-only here; only a draft's weights and
on/off switches change, one field per rule in the rules list (`list_editable`).
Every change is recorded by django-simple-history and shown as "weight changes".
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin

from advisor import rulesets
from advisor.engine import rules as engine_rules
from advisor.engine.conditions import ConditionError, parse_condition
from advisor.engine.describe import OUTCOME_NAMES, describe_condition
from advisor.models import DemoRun, Report, Rule, RuleSet, ShareLink
from questionnaire.bank import DataFileError, default_bank

# Shown in the row of the rule, under its weight box; the range is explained above.
WEIGHT_NOT_A_NUMBER = "rule '{rule}', field 'weight': not a number from 0 to 10"
WEIGHT_OUT_OF_RANGE = "rule '{rule}', field 'weight': %(value)s is outside 0 to 10"
WEIGHT_TOO_PRECISE = "rule '{rule}', field 'weight': use at most two decimals"
PUBLISHED_IS_READ_ONLY = (
    "{version} is published and read-only. Make a new draft to change its weights."
)
DRAFT_CREATED = "Draft {version} copied from {source}: edit its weights below, then preview."
DRAFT_PUBLISHED = (
    "Published {version}: new assessments are scored with it. "
    "Reports made before keep the ruleset they were scored with."
)
DRAFT_IMPORTED = "Imported {count} rules from {name} as draft {version}."
COPY_ONE_AT_A_TIME = "Select exactly one ruleset to copy as a draft."
PUBLISH_FROM_PREVIEW = "Only a draft can be previewed and published; {version} is published."


SIDE_SHORT_NAMES = {"artemis": "broker", "kafka": "Kafka"}


class RuleWeightForm(forms.ModelForm):
    """A rule's weight and on/off switch, with errors that name the rule and the field.

    Used for each row of the rules list and for a rule's own page. The rows of a
    published ruleset are disabled: their posted values are ignored.
    """

    class Meta:
        model = Rule
        fields = ["weight", "enabled"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rule = self.instance.rule_id or "?"
        if "weight" in self.fields:
            self.fields["weight"] = forms.DecimalField(
                label="Weight",
                min_value=engine_rules.WEIGHT_MIN,
                max_value=engine_rules.WEIGHT_MAX,
                decimal_places=2,
                help_text=rulesets.WEIGHT_RANGE,
                error_messages={
                    "required": WEIGHT_NOT_A_NUMBER.format(rule=rule),
                    "invalid": WEIGHT_NOT_A_NUMBER.format(rule=rule),
                    "min_value": WEIGHT_OUT_OF_RANGE.format(rule=rule),
                    "max_value": WEIGHT_OUT_OF_RANGE.format(rule=rule),
                    "max_decimal_places": WEIGHT_TOO_PRECISE.format(rule=rule),
                },
                widget=forms.NumberInput(attrs={"step": "0.1", "style": "width: 5em"}),
            )
        if self.instance.pk and self.instance.ruleset.is_published:
            for field in self.fields.values():
                field.disabled = True


def rules_url(ruleset: RuleSet) -> str:
    """The rules list filtered to one ruleset: where its weights are edited."""
    return reverse("admin:advisor_rule_changelist") + f"?ruleset__id__exact={ruleset.pk}"


def condition_words(rule: Rule) -> str:
    try:
        return describe_condition(parse_condition(rule.condition, "when"), default_bank())
    except ConditionError as error:
        return f"(condition does not parse: {error})"


@admin.register(Rule)
class RuleAdmin(SimpleHistoryAdmin):
    list_display = (
        "rule_id",
        "side",
        "dimension",
        "points",
        "weight",
        "enabled",
        "decisive",
        "when_in_words",
        "citation_list",
    )
    list_display_links = ("rule_id",)
    list_editable = ("weight", "enabled")
    list_filter = ("ruleset", "favours", "dimension", "enabled", "decisive")
    list_select_related = ("ruleset",)
    list_per_page = 200
    search_fields = ("rule_id", "title", "rationale")
    ordering = ("ruleset", "position", "pk")
    form = RuleWeightForm
    history_list_display = ("weight", "enabled")
    fieldsets = (
        (None, {"fields": ("ruleset", "rule_id", "title", "weight", "enabled")}),
        (
            "What the rule says (read-only)",
            {
                "fields": (
                    "when_in_words",
                    "favours",
                    "dimension",
                    "points",
                    "decisive",
                    "rationale",
                    "citation_list",
                    "caveat",
                    "condition",
                )
            },
        ),
    )
    # Everything but weight and on/off: the identity fields and the read-only fieldset.
    read_only_always = ("ruleset", "rule_id", "title", *fieldsets[1][1]["fields"])

    @admin.display(description="Favours", ordering="favours")
    def side(self, rule: Rule) -> str:
        return SIDE_SHORT_NAMES[rule.favours]

    @admin.display(description="When (in words)")
    def when_in_words(self, rule: Rule) -> str:
        return condition_words(rule)

    @admin.display(description="Citations")
    def citation_list(self, rule: Rule) -> str:
        return ", ".join(rule.citations)

    def get_readonly_fields(self, request: HttpRequest, obj: Rule | None = None):
        if obj is not None and obj.ruleset.is_published:
            return (*self.read_only_always, "weight", "enabled")
        return self.read_only_always

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rules come with a ruleset: copied, imported or loaded

    def has_delete_permission(self, request: HttpRequest, obj: Rule | None = None) -> bool:
        return False  # switch a rule off instead; its history stays readable

    def has_change_permission(self, request: HttpRequest, obj: Rule | None = None) -> bool:
        if obj is not None and obj.ruleset.is_published:
            return False
        return super().has_change_permission(request, obj)

    def get_changelist_form(self, request: HttpRequest, **kwargs):
        kwargs.setdefault("form", RuleWeightForm)
        return super().get_changelist_form(request, **kwargs)

    def get_changelist_instance(self, request: HttpRequest):
        changelist = super().get_changelist_instance(request)
        # Nothing to edit on a page of published rules: no inputs, no Save button.
        if not changelist.queryset.filter(ruleset__state=RuleSet.State.DRAFT).exists():
            changelist.list_editable = ()
        return changelist

    def save_model(self, request: HttpRequest, obj: Rule, form, change: bool) -> None:
        if obj.ruleset.is_published:
            raise PermissionDenied(PUBLISHED_IS_READ_ONLY.format(version=obj.ruleset.version))
        super().save_model(request, obj, form, change)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        if request.method == "GET" and not request.GET:
            # Open on the ruleset an admin most likely means: the newest draft, else
            # the current one. Any query (even "All") shows what it asks for.
            ruleset = RuleSet.objects.drafts().first() or RuleSet.objects.current()
            if ruleset is not None:
                return HttpResponseRedirect(f"{request.path}?ruleset__id__exact={ruleset.pk}")
        ruleset = None
        ruleset_id = request.GET.get("ruleset__id__exact", "")
        if ruleset_id.isdigit():
            ruleset = RuleSet.objects.filter(pk=ruleset_id).first()
        extra_context = {**(extra_context or {}), "ruleset": ruleset}
        return super().changelist_view(request, extra_context=extra_context)


class ImportRulesForm(forms.Form):
    file = forms.FileField(
        label="Rules file",
        help_text="A JSON file in the format of advisor/data/rules.json (as Export writes it).",
    )


@admin.register(RuleSet)
class RuleSetAdmin(admin.ModelAdmin):
    list_display = (
        "version",
        "state",
        "is_current",
        "based_on",
        "rule_count",
        "published_at",
        "published_by",
    )
    list_display_links = ("version",)
    list_filter = ("state",)
    actions = ("copy_as_draft",)
    fields = (
        "version",
        "state",
        "based_on",
        "rules_link",
        "close_call_margin",
        "notes",
        "created_at",
        "created_by",
        "published_at",
        "published_by",
    )
    read_only_always = (
        "version",
        "state",
        "based_on",
        "rules_link",
        "created_at",
        "created_by",
        "published_at",
        "published_by",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[RuleSet]:
        return (
            super()
            .get_queryset(request)
            .select_related("based_on", "published_by", "created_by")
            .annotate(rule_count=Count("rules"))
        )

    @admin.display(description="Rules", ordering="rule_count")
    def rule_count(self, ruleset: RuleSet) -> int:
        return ruleset.rule_count

    @admin.display(description="Current", boolean=True)
    def is_current(self, ruleset: RuleSet) -> bool:
        current = RuleSet.objects.current()
        return current is not None and current.pk == ruleset.pk

    @admin.display(description="Rules")
    def rules_link(self, ruleset: RuleSet) -> str:
        url = rules_url(ruleset)
        verb = "view" if ruleset.is_published else "edit weights and switch rules on or off"
        return format_html('<a href="{}">{} rules: {}</a>', url, ruleset.rules.count(), verb)

    def get_readonly_fields(self, request: HttpRequest, obj: RuleSet | None = None):
        if obj is not None and obj.is_published:
            return self.fields
        return self.read_only_always

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a ruleset starts as a copy ("New draft") or an import

    def has_change_permission(self, request: HttpRequest, obj: RuleSet | None = None) -> bool:
        if obj is not None and obj.is_published:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: RuleSet | None = None) -> bool:
        # Published rulesets are what reports were scored with: they stay.
        if obj is not None and obj.is_published:
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request: HttpRequest):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        # A draft's rules go with it, though a single rule is never deleted on its own.
        perms_needed.discard(Rule._meta.verbose_name)
        if any(ruleset.is_published for ruleset in objs):
            perms_needed.add("published rulesets (they never go away)")
        return deleted, model_count, perms_needed, protected

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(function)

        return [
            path("new-draft/", view(self.new_draft_view), name="advisor_ruleset_new_draft"),
            path("import/", view(self.import_view), name="advisor_ruleset_import"),
            path("<path:object_id>/impact/", view(self.impact_view), name="advisor_ruleset_impact"),
            path("<path:object_id>/export/", view(self.export_view), name="advisor_ruleset_export"),
            path(
                "<path:object_id>/changes/",
                view(self.changes_view),
                name="advisor_ruleset_changes",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = {**(extra_context or {}), "current": RuleSet.objects.current()}
        return super().changelist_view(request, extra_context=extra_context)

    # -- drafts -------------------------------------------------------------------

    def _check_can_create(self, request: HttpRequest) -> None:
        if not request.user.has_perm("advisor.add_ruleset"):
            raise PermissionDenied

    def _open_draft(self, request: HttpRequest, draft: RuleSet) -> HttpResponseRedirect:
        return redirect(rules_url(draft))

    @admin.action(description="Copy the selected ruleset as a new draft")
    def copy_as_draft(self, request: HttpRequest, queryset: QuerySet[RuleSet]):
        self._check_can_create(request)
        if queryset.count() != 1:
            self.message_user(request, COPY_ONE_AT_A_TIME, messages.ERROR)
            return None
        source = queryset.get()
        draft = rulesets.ruleset_new_draft(user=request.user, source=source)
        message = DRAFT_CREATED.format(version=draft.version, source=source.version)
        self.message_user(request, message)
        return self._open_draft(request, draft)

    def new_draft_view(self, request: HttpRequest) -> HttpResponse:
        return require_POST(self._new_draft)(request)

    def _new_draft(self, request: HttpRequest) -> HttpResponse:
        self._check_can_create(request)
        try:
            draft = rulesets.ruleset_new_draft(user=request.user)
        except ValidationError as error:
            for message in error.messages:
                self.message_user(request, message, messages.ERROR)
            return redirect("admin:advisor_ruleset_changelist")
        self.message_user(
            request, DRAFT_CREATED.format(version=draft.version, source=draft.based_on.version)
        )
        return self._open_draft(request, draft)

    # -- impact preview and publishing ------------------------------------------------

    def impact_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        draft = get_object_or_404(RuleSet, pk=object_id)
        if draft.is_published:
            self.message_user(
                request, PUBLISH_FROM_PREVIEW.format(version=draft.version), messages.WARNING
            )
            return redirect("admin:advisor_ruleset_change", draft.pk)
        if not self.has_view_or_change_permission(request, draft):
            raise PermissionDenied
        publish_errors = []
        if request.method == "POST":
            if not self.has_change_permission(request, draft):
                raise PermissionDenied
            try:
                rulesets.ruleset_publish(ruleset=draft, user=request.user)
            except ValidationError as error:
                publish_errors = error.messages
            else:
                self.message_user(request, DRAFT_PUBLISHED.format(version=draft.version))
                return redirect("admin:advisor_ruleset_changelist")
        impact = rulesets.ruleset_impact(draft=draft)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": draft,
            "title": f"Impact of publishing {draft.version}",
            "impact": impact,
            "errors": publish_errors or rulesets.ruleset_errors(ruleset=draft),
            "chart": impact_chart(impact),
            "outcome_names": OUTCOME_NAMES,
            "can_publish": self.has_change_permission(request, draft),
        }
        return TemplateResponse(request, "admin/advisor/ruleset/impact.html", context)

    # -- history ----------------------------------------------------------------------

    def changes_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        ruleset = get_object_or_404(RuleSet, pk=object_id)
        if not self.has_view_or_change_permission(request, ruleset):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": ruleset,
            "title": f"Weight changes in {ruleset.version}",
            "changes": rulesets.ruleset_rule_changes(ruleset=ruleset),
        }
        return TemplateResponse(request, "admin/advisor/ruleset/changes.html", context)

    # -- files ------------------------------------------------------------------------

    def export_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        ruleset = get_object_or_404(RuleSet, pk=object_id)
        if not self.has_view_or_change_permission(request, ruleset):
            raise PermissionDenied
        response = HttpResponse(
            rulesets.ruleset_export(ruleset=ruleset), content_type="application/json"
        )
        response["Content-Disposition"] = f'attachment; filename="rules-{ruleset.version}.json"'
        return response

    def import_view(self, request: HttpRequest) -> HttpResponse:
        self._check_can_create(request)
        form = ImportRulesForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                data = rulesets.rules_file_parse(upload.read(), name=upload.name)
                draft = rulesets.ruleset_import(data=data, user=request.user, name=upload.name)
            except DataFileError as error:
                form.add_error("file", str(error))
            else:
                self.message_user(
                    request,
                    DRAFT_IMPORTED.format(
                        count=draft.rules.count(), name=upload.name, version=draft.version
                    ),
                )
                return self._open_draft(request, draft)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import a rules file as a new draft",
            "form": form,
        }
        return TemplateResponse(request, "admin/advisor/ruleset/import.html", context)


def impact_chart(impact: rulesets.RulesetImpact) -> dict | None:
    """A Plotly bar chart: how far each assessment's Kafka share moves, in points."""
    if not impact.assessments:
        return None
    rows = sorted(impact.assessments, key=lambda row: row.kafka_shift)
    labels = [f"{row.assessment} · {str(row.assessment.pk)[:8]}" for row in rows]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": labels,
                "x": [row.kafka_shift for row in rows],
                "marker": {"color": ["#ba2121" if row.changed else "#79aec8" for row in rows]},
                "text": [
                    f"{row.before.recommendation if row.before else '-'} → "
                    f"{row.after.recommendation}"
                    for row in rows
                ],
                "textposition": "outside",
                "cliponaxis": False,
                "hovertemplate": "%{y}<br>shift %{x:+.1f} points<br>%{text}<extra></extra>",
            }
        ],
        "layout": {
            "title": {
                "text": "Shift of each assessment's event-streaming (Kafka) share"
                "<br><sub>red: the verdict changes</sub>"
            },
            "xaxis": {
                "title": {"text": "points of 100 (negative: towards the broker)"},
                "zeroline": True,
            },
            "yaxis": {"automargin": True},
            "height": max(240, 60 + 28 * len(rows)),
            "margin": {"t": 70, "r": 120, "l": 20},
            "showlegend": False,
        },
    }


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the app's services: administrators look, and may delete."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "recommendation", "ruleset", "created_at", "share_link_count"]
    list_filter = ["recommendation", "ruleset"]
    search_fields = ["title", "id"]
    date_hierarchy = "created_at"
    list_select_related = ["ruleset"]

    @admin.display(description="share links")
    def share_link_count(self, report: Report) -> int:
        return report.share_links.count()


@admin.register(ShareLink)
class ShareLinkAdmin(ReadOnlyAdmin):
    # Only the token's first characters are known: the token itself is never stored.
    list_display = ["__str__", "report", "token_hint", "created_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    list_select_related = ["report"]


@admin.register(DemoRun)
class DemoRunAdmin(ReadOnlyAdmin):
    list_display = ["scenario", "engine", "status", "progress", "attempts", "created_at", "error"]
    list_filter = ["status", "scenario", "engine"]
    date_hierarchy = "created_at"
