"""Time of the admin's impact preview over many submitted assessments, on PostgreSQL.

Fills a database of its own (kept for the next run, so only the first run at a size pays
for it) with submitted assessments of random valid answers, each with its report scored
by the default rules and its stored rule firings, the way a submission stores them. Then
times `ruleset_impact` for drafts an administrator makes: three weights changed and one
rule switched off, every weight changed, and one rule's condition changed (a rules-file
import: those reports are read with their answers). Goal (issue 12): under 1 s at 100,000. Wall
time and this process's CPU time are printed (PostgreSQL's own work is in the wall time
only): on a machine shared with other work, the CPU time says more about the code.

    .venv/bin/python benchmarks/impact.py --assessments 100000 [--repeat 3]
        [--database-url postgres://postgres@127.0.0.1:5432/advisor_impact] [--drop]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

from support import drop_database, ensure_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BATCH = 2000


def fill(count: int) -> None:
    """Add submitted assessments with reports until there are `count`."""
    from django.db import transaction
    from django.utils import timezone

    from advisor.engine.answers import random_answers, validate_answers
    from advisor.engine.bank import default_bank
    from advisor.engine.firings import firing_mask
    from advisor.engine.scoring import score
    from advisor.reports.models import Report
    from advisor.rulesets.services import current_ruleset
    from questionnaire.models import Assessment

    have = Assessment.objects.submitted().count()
    if have >= count:
        return
    stored, ruleset = current_ruleset()
    bank = default_bank()
    rng = random.Random(have)
    started = time.monotonic()
    print(f"adding {count - have} submitted assessments with reports ...", flush=True)
    while have < count:
        size = min(BATCH, count - have)
        now = timezone.now()
        assessments, reports = [], []
        for _ in range(size):
            answers = validate_answers(random_answers(bank, rng), bank)
            result = score(answers, ruleset)
            assessment = Assessment(
                title="Benchmark", answers=answers, bank_version=bank.version, submitted_at=now
            )
            assessments.append(assessment)
            reports.append(
                Report(
                    assessment=assessment,
                    ruleset=stored,
                    title=assessment.title,
                    answers=answers,
                    result=result.to_data(),
                    recommendation=result.recommendation,
                    bank_version=bank.version,
                    matched_rules=firing_mask(answers, ruleset),
                )
            )
        with transaction.atomic():
            Assessment.objects.bulk_create(assessments)
            Report.objects.bulk_create(reports)
        have += size
        print(f"  {have} ({time.monotonic() - started:.0f} s)", flush=True)


def draft_with(change) -> object:
    """A new draft of the current rules with `change(rule, rng)` applied to each rule."""
    from django.contrib.auth import get_user_model

    from advisor.rulesets.services import ruleset_new_draft

    user, _ = get_user_model().objects.get_or_create(username="impact-benchmark")
    draft = ruleset_new_draft(user=user)
    rng = random.Random(7)
    for rule in draft.rules.all():
        if change(rule, rng):
            rule.save()
    return draft


def a_few_weights(rule, rng) -> bool:
    if rule.position in (3, 11, 19):
        rule.weight = Decimal("2.50")
        return True
    if rule.position == 27:
        rule.enabled = False
        return True
    return False


def every_weight(rule, rng) -> bool:
    rule.weight = Decimal(rng.choice(["0.50", "0.75", "1.25", "1.50", "2.00", "3.00"]))
    return True


def one_condition(rule, rng) -> bool:
    """A condition changed, as only a rules-file import can: those reports need answers."""
    if rule.position == 5:
        rule.condition = {"not": rule.condition}
        return True
    return False


def timed_impact(draft, repeat: int) -> tuple[list[float], list[float], object]:
    from advisor.reports.models import Report
    from advisor.rulesets.services import ruleset_impact

    samples, cpu, impact = [], [], None
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        impact = ruleset_impact(draft=draft, reports=Report.objects.latest_per_assessment())
        samples.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return samples, cpu, impact


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assessments", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/advisor_impact"
    )
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    args = parser.parse_args()

    ensure_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    from questionnaire.models import Assessment

    try:
        call_command("migrate", verbosity=0)
        call_command("load_rules", verbosity=0)
        fill(args.assessments)
        total = Assessment.objects.submitted().count()
        print(f"impact preview over {total} submitted assessments (PostgreSQL, {args.repeat} runs)")
        for name, change in [
            ("3 weights changed, 1 rule off", a_few_weights),
            ("every weight changed", every_weight),
            ("one rule's condition changed", one_condition),
        ]:
            draft = draft_with(change)
            samples, cpu, impact = timed_impact(draft, args.repeat)
            print(
                f"  {name:30} median {statistics.median(samples):6.3f} s"
                f"   min {min(samples):6.3f} s   (this process's CPU: median "
                f"{statistics.median(cpu):6.3f} s; {impact.changed_count} of {impact.total}"
                f" change verdict, {impact.read_answers} read their answers,"
                f" {impact.rescored} re-scored in full)"
            )
            draft.delete()
    finally:
        if args.drop:
            from django.db import connections

            connections.close_all()
            drop_database(args.database_url)


if __name__ == "__main__":
    main()
