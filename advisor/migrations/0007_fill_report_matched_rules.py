"""Fill the rule firings of reports made before they were stored (see 0006).

Each report's answers are evaluated against the conditions of its own ruleset's rules, in
that ruleset's order (position, then id), as ``advisor.engine.firings.firing_mask`` does.
"""

from django.db import migrations

from advisor.engine.conditions import parse_condition

BATCH = 1000


def fill_matched_rules(apps, schema_editor):
    Report = apps.get_model("advisor", "Report")
    Rule = apps.get_model("advisor", "Rule")
    conditions_of = {}
    batch = []
    for report in Report.objects.only("pk", "ruleset_id", "answers").iterator(chunk_size=BATCH):
        conditions = conditions_of.get(report.ruleset_id)
        if conditions is None:
            rules = Rule.objects.filter(ruleset_id=report.ruleset_id).order_by("position", "pk")
            conditions = [parse_condition(rule.condition, "when") for rule in rules]
            conditions_of[report.ruleset_id] = conditions
        value = sum(
            1 << index
            for index, condition in enumerate(conditions)
            if condition.evaluate(report.answers)
        )
        report.matched_rules = value.to_bytes((len(conditions) + 7) // 8, "little")
        batch.append(report)
        if len(batch) >= BATCH:
            Report.objects.bulk_update(batch, ["matched_rules"])
            batch = []
    if batch:
        Report.objects.bulk_update(batch, ["matched_rules"])


class Migration(migrations.Migration):
    dependencies = [("advisor", "0006_report_matched_rules_demo_run_sends")]

    operations = [migrations.RunPython(fill_matched_rules, migrations.RunPython.noop)]
