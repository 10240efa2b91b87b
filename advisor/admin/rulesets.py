"""The admin for rulesets: copy a draft, tune weights, preview the impact, publish.

A published RuleSet and its rules are read-only here; only a draft's weights and
on/off switches change, one field per rule in the rules list (`list_editable`).
Every change is recorded by django-simple-history and shown as "weight changes".
"""

from __future__ import annotations

from functools import partial

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, QuerySet, Subquery
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from advisor.admin import ruleset_views as pages
from advisor.engine import rules as engine_rules
from advisor.engine.bank import default_bank
from advisor.engine.conditions import ConditionError, parse_condition
from advisor.engine.describe import describe_condition
from advisor.engine.sides import SIDE_SHORT_NAMES
from advisor.rulesets.models import Rule, RuleSet
from advisor.rulesets.services import WEIGHT_RANGE
from advisor.validators import TextValidator

# Shown in the row of the rule, under its weight box; the range is explained above.
WEIGHT_NOT_A_NUMBER = "rule '{rule}', field 'weight': not a number from 0 to 10"
WEIGHT_OUT_OF_RANGE = "rule '{rule}', field 'weight': %(value)s is outside 0 to 10"
WEIGHT_TOO_PRECISE = "rule '{rule}', field 'weight': use at most two decimals"
PUBLISHED_IS_READ_ONLY = (
    "{version} is published and read-only. Make a new draft to change its weights."
)


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
                help_text=WEIGHT_RANGE,
                error_messages={
                    "required": WEIGHT_NOT_A_NUMBER.format(rule=rule),
                    "invalid": WEIGHT_NOT_A_NUMBER.format(rule=rule),
                    "min_value": WEIGHT_OUT_OF_RANGE.format(rule=rule),
                    "max_value": WEIGHT_OUT_OF_RANGE.format(rule=rule),
                    "max_decimal_places": WEIGHT_TOO_PRECISE.format(rule=rule),
                },
                widget=forms.NumberInput(attrs={"step": "0.1", "class": "weight-input"}),
            )
        # The rules list shows these inputs in table cells with no <label>: name each one.
        for name, text in (("weight", "Weight"), ("enabled", "Enabled")):
            if name in self.fields:
                self.fields[name].widget.attrs["aria-label"] = f"{text} of rule {rule}"
        if self.instance.pk and self.instance.ruleset.is_published:
            for field in self.fields.values():
                field.disabled = True


def condition_words(rule: Rule) -> str:
    try:
        return describe_condition(parse_condition(rule.condition, "when"), default_bank())
    except ConditionError as error:
        return f"(condition does not parse: {error})"


class FactGroupFilter(admin.SimpleListFilter):
    """Rules by the fact they express; a rule alone in its fact is listed as "on its own"."""

    title = "fact counted once (group)"
    parameter_name = "group"

    def lookups(self, request: HttpRequest, model_admin):
        groups = Rule.objects.exclude(group="").values_list("group", flat=True).distinct()
        return [("-", "on its own"), *((group, group) for group in sorted(set(groups)))]

    def queryset(self, request: HttpRequest, queryset):
        value = self.value()
        if value == "-":
            return queryset.filter(group="")
        return queryset.filter(group=value) if value else queryset


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
    list_filter = ("ruleset", "favours", "dimension", "enabled", "decisive", FactGroupFilter)
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
                    "group",
                    "refuted_by",
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


@admin.register(RuleSet)
class RuleSetAdmin(admin.ModelAdmin):
    # A draft's notes go through the same text check as everything else typed in.
    formfield_overrides = {
        models.TextField: {"validators": [TextValidator(max_length=5000, multiline=True)]}
    }
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
    actions = (pages.copy_as_draft,)
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
        # One query for the list: the rule counts and the current ruleset's id ride along.
        current_pk = RuleSet.objects.published().order_by("-published_at", "-pk").values("pk")[:1]
        return (
            super()
            .get_queryset(request)
            .select_related("based_on", "published_by", "created_by")
            .annotate(rule_count=Count("rules"), current_pk=Subquery(current_pk))
        )

    @admin.display(description="Rules", ordering="rule_count")
    def rule_count(self, ruleset: RuleSet) -> int:
        return ruleset.rule_count

    @admin.display(description="Current", boolean=True)
    def is_current(self, ruleset: RuleSet) -> bool:
        return ruleset.pk == ruleset.current_pk

    @admin.display(description="Rules")
    def rules_link(self, ruleset: RuleSet) -> str:
        url = pages.rules_url(ruleset)
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
            # The pages are functions of (request, model_admin, ...): see ruleset_views.
            return self.admin_site.admin_view(partial(_call_with_admin, function, self))

        return [
            path("new-draft/", view(pages.new_draft_view), name="advisor_ruleset_new_draft"),
            path("import/", view(pages.import_view), name="advisor_ruleset_import"),
            path("<int:object_id>/impact/", view(pages.impact_view), name="advisor_ruleset_impact"),
            path("<int:object_id>/export/", view(pages.export_view), name="advisor_ruleset_export"),
            path(
                "<int:object_id>/changes/", view(pages.changes_view), name="advisor_ruleset_changes"
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = {**(extra_context or {}), "current": RuleSet.objects.current()}
        return super().changelist_view(request, extra_context=extra_context)

    # -- drafts -------------------------------------------------------------------


def _call_with_admin(function, model_admin, request, *args, **kwargs):
    return function(request, model_admin, *args, **kwargs)
