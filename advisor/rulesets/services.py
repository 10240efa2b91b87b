"""Administering rulesets: drafts, publishing, impact previews, history, files.

A published RuleSet never changes: an administrator copies it as a draft, tunes the
weights (0 to 10) and switches rules off, previews which saved assessments would get
another verdict, and publishes. Reports keep the ruleset they were scored with.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from advisor.engine import rules as engine_rules
from advisor.engine.answers import AnswersError, validate_answers
from advisor.engine.bank import default_bank
from advisor.engine.datafiles import DataFileError, parse_json_text
from advisor.engine.firings import mask_width
from advisor.engine.scoring import fired_rules, tally
from advisor.engine.sides import OUTCOMES, SIDE_LABELS
from advisor.rulesets.impact import (
    TALLY_COLUMNS,
    Outcomes,
    Retally,
    masks_array,
    outcomes,
    tally_row,
)
from advisor.rulesets.models import Rule, RuleSet

NO_PUBLISHED_RULES = (
    "no published rules in the database: run `python manage.py load_rules` (or `make setup`)"
)


# Rows the impact page lists; its counts cover them all.
IMPACT_LISTED = 200  # assessments that could not be scored, listed with the reason
IMPACT_PAGE_SIZE = 50  # changed assessments listed a page at a time


class NoPublishedRules(LookupError):
    pass


@transaction.atomic
def ruleset_create(
    *,
    ruleset: engine_rules.Rulebook,
    state: str = RuleSet.State.DRAFT,
    based_on: RuleSet | None = None,
    version: str | None = None,
    user=None,
) -> RuleSet:
    """Store an engine ruleset (from a file or a copy) as a RuleSet with its rules."""
    now = timezone.now()
    published = state == RuleSet.State.PUBLISHED
    stored = RuleSet(
        version=version or ruleset.version,
        state=state,
        based_on=based_on,
        close_call_margin=ruleset.close_call_margin,
        dimensions=[{"id": d.id, "title": d.title} for d in ruleset.dimensions],
        created_by=user,
        published_at=now if published else None,
        published_by=user if published else None,
    )
    stored.full_clean()
    stored.save()
    Rule.objects.bulk_create(
        [
            Rule.from_engine(rule, ruleset=stored, position=position)
            for position, rule in enumerate(ruleset.rules)
        ]
    )
    return stored


def ruleset_load_default(*, path=engine_rules.DEFAULT_RULES_PATH) -> tuple[RuleSet, bool]:
    """Make the rules file the first published RuleSet, once.

    Returns (the current ruleset, whether it was created now). Does nothing when a
    published ruleset exists already: the database, not the file, is then the truth.
    """
    with transaction.atomic():
        current = RuleSet.objects.select_for_update().published().order_by("-published_at").first()
        if current is not None:
            return current, False
        ruleset = engine_rules.load_ruleset_file(path, bank=default_bank())
        return ruleset_create(ruleset=ruleset, state=RuleSet.State.PUBLISHED), True


_engine_cache: dict[tuple, engine_rules.Rulebook] = {}


def engine_ruleset_for(stored: RuleSet) -> engine_rules.Rulebook:
    """The engine form of a stored ruleset; published ones never change, so are cached."""
    if not stored.is_published:
        return stored.to_engine()
    key = (stored.pk, stored.version, stored.published_at)
    cached = _engine_cache.get(key)
    if cached is None:
        cached = _engine_cache[key] = stored.to_engine()
    return cached


def current_ruleset() -> tuple[RuleSet, engine_rules.Rulebook]:
    """The current published ruleset, stored and in engine form; NoPublishedRules if none."""
    stored = RuleSet.objects.current()
    if stored is None:
        raise NoPublishedRules(NO_PUBLISHED_RULES)
    return stored, engine_ruleset_for(stored)


NO_CURRENT_RULESET = (
    "there is no published ruleset to copy: run `python manage.py load_rules` first"
)
RULESET_ALREADY_PUBLISHED = (
    "ruleset {version} is published already; published rulesets never change"
)
DRAFT_HAS_NO_RULES = "draft {version} has no rules: a ruleset needs rules to be published"
SIDE_HAS_NO_LIVE_RULE = (
    "every rule favouring {side} is switched off or weighted 0 ({rules}): "
    "{side} could never be recommended; switch one on (field 'enabled') "
    "or give it a weight above 0 (field 'weight')"
)
RULE_FIELD_ERROR = "rule '{rule}', field '{field}': {message}"
WEIGHT_RANGE = (
    f"a number from {engine_rules.WEIGHT_MIN:g} to {engine_rules.WEIGHT_MAX:g}, "
    "at most two decimals (0 switches the rule's points off; 1 is the default)"
)
IMPORTED_NOTE = "Imported from {name} (its version field: {version})."
COPIED_NOTE = "Copied from {version}."

VERSION_PATTERN = re.compile(r"^v(\d+)$")


def ruleset_next_version() -> str:
    """The next free 'vN' id: one more than the highest N used so far."""
    numbers = [
        int(match.group(1))
        for version in RuleSet.objects.values_list("version", flat=True)
        if (match := VERSION_PATTERN.match(version))
    ]
    return f"v{max(numbers, default=0) + 1}"


def _record_initial_history(*, ruleset: RuleSet, user, reason: str) -> None:
    # ruleset_create bulk-creates rules, which sends no signals: record each rule's
    # starting weight here so the first edit shows "from 1.00 to 2.50".
    Rule.history.bulk_history_create(
        list(ruleset.rules.all()), default_user=user, default_change_reason=reason
    )


@transaction.atomic
def ruleset_new_draft(*, user, source: RuleSet | None = None) -> RuleSet:
    """Copy a ruleset (by default the current published one) as a new draft 'vN'."""
    if source is None:
        source = RuleSet.objects.current()
        if source is None:
            raise ValidationError(NO_CURRENT_RULESET)
    draft = ruleset_create(
        ruleset=source.to_engine(),
        state=RuleSet.State.DRAFT,
        based_on=source,
        version=ruleset_next_version(),
        user=user,
    )
    draft.notes = COPIED_NOTE.format(version=source.version)
    draft.save(update_fields=["notes"])
    _record_initial_history(ruleset=draft, user=user, reason=draft.notes)
    return draft


def ruleset_errors(*, ruleset: RuleSet) -> list[str]:
    """Why this ruleset could not be published; empty when it can be.

    Each message names the rule and the field, or the side that would be silenced.
    """
    rules = list(ruleset.rules.all())
    if not rules:
        return [DRAFT_HAS_NO_RULES.format(version=ruleset.version)]
    errors = []
    bank = default_bank()
    dimension_ids = {dimension["id"] for dimension in ruleset.dimensions}
    for rule in rules:
        try:
            rule.full_clean(exclude=["ruleset"])
        except ValidationError as error:
            errors.extend(
                RULE_FIELD_ERROR.format(rule=rule.rule_id, field=field, message=message)
                for field, messages in error.message_dict.items()
                for message in messages
            )
            continue
        # The same checks as a rules file: conditions against the question bank,
        # citations, a caveat for every M citation.
        try:
            engine_rules.parse_rule(
                engine_rules.rule_to_data(rule.to_engine()),
                index=rule.position,
                bank=bank,
                dimensions=dimension_ids,
                path=Path(f"ruleset {ruleset.version}"),
            )
        except DataFileError as error:
            errors.append(str(error))
        except ValueError as error:  # a condition that does not parse
            errors.append(
                RULE_FIELD_ERROR.format(rule=rule.rule_id, field="condition", message=error)
            )
    for side, label in SIDE_LABELS.items():
        of_side = [rule for rule in rules if rule.favours == side]
        if not any(rule.enabled and rule.weight > 0 for rule in of_side):
            errors.append(
                SIDE_HAS_NO_LIVE_RULE.format(
                    side=label, rules=", ".join(rule.rule_id for rule in of_side) or "none"
                )
            )
    return errors


@transaction.atomic
def ruleset_publish(*, ruleset: RuleSet, user) -> RuleSet:
    """Make a valid draft the current ruleset; the ones before it stay as they are.

    Reports point at the ruleset they were scored with and keep their snapshot:
    nothing here touches them. Raises ValidationError listing every problem.
    """
    ruleset = RuleSet.objects.select_for_update().get(pk=ruleset.pk)
    if ruleset.is_published:
        raise ValidationError(RULESET_ALREADY_PUBLISHED.format(version=ruleset.version))
    errors = ruleset_errors(ruleset=ruleset)
    if errors:
        raise ValidationError(errors)
    ruleset.state = RuleSet.State.PUBLISHED
    ruleset.published_at = timezone.now()
    ruleset.published_by = user
    ruleset.full_clean()
    ruleset.save(update_fields=["state", "published_at", "published_by"])
    return ruleset


@dataclass(frozen=True)
class Verdict:
    """A recommendation and its scores (each side's share, 0-100)."""

    recommendation: str
    scores: dict[str, float]


@dataclass(frozen=True)
class AssessmentImpact:
    """One submitted assessment (its latest report) under the current ruleset and the draft."""

    report: Any  # advisor.reports.models.Report
    before: Verdict
    after: Verdict

    @property
    def changed(self) -> bool:
        return self.before.recommendation != self.after.recommendation

    @property
    def kafka_shift(self) -> float:
        """How far the event-streaming side's share moved, in points of 100."""
        return round(self.after.scores["kafka"] - self.before.scores["kafka"], 1)


@dataclass(frozen=True)
class WeightChange:
    rule: str
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class RulesetImpact:
    """What publishing a draft would change, over every submitted assessment."""

    draft: RuleSet
    baseline: RuleSet | None
    total: int  # assessments scored both ways
    changed_count: int
    # One page of the changed assessments, oldest first: `changed_page` says which.
    changed: tuple[AssessmentImpact, ...]
    changed_page: Page
    transitions: tuple[tuple[str, str, int], ...]  # (verdict now, with the draft, how many)
    shifts: tuple[tuple[float, int, int], ...]  # (Kafka shift, how many, how many change)
    unscorable: tuple[tuple[Any, str], ...]  # (report, why), the first IMPACT_LISTED
    unscorable_count: int
    rescored: int  # scored in full from their answers (the question bank changed since)
    read_answers: int  # changed conditions evaluated against their answers
    differences: tuple[WeightChange, ...]


def _rule_differences(baseline: RuleSet | None, draft: RuleSet) -> list[WeightChange]:
    before = {rule.rule_id: rule for rule in baseline.rules.all()} if baseline else {}
    differences = []
    for rule in draft.rules.all():
        old = before.get(rule.rule_id)
        if old is None:
            differences.append(WeightChange(rule.rule_id, "rule", None, "added"))
            continue
        for field in ("weight", "enabled"):
            if getattr(old, field) != getattr(rule, field):
                differences.append(
                    WeightChange(rule.rule_id, field, getattr(old, field), getattr(rule, field))
                )
        if old.condition != rule.condition:
            differences.append(WeightChange(rule.rule_id, "condition", "as before", "changed"))
    draft_ids = set(draft.rules.values_list("rule_id", flat=True))
    differences.extend(
        WeightChange(rule_id, "rule", "present", None)
        for rule_id in before
        if rule_id not in draft_ids
    )
    return differences


class _Tallies:
    """Tally rows of every report, in order, before (current rules) and after (draft)."""

    def __init__(self) -> None:
        self.before: list[np.ndarray] = []
        self.after: list[np.ndarray] = []
        self.segments: list[tuple[Any, int]] = []  # (what identifies its rows, how many)

    def add(self, identity: Any, before: np.ndarray, after: np.ndarray) -> None:
        self.before.append(before)
        self.after.append(after)
        self.segments.append((identity, len(before)))

    def stacked(self, which: list[np.ndarray]) -> np.ndarray:
        if not which:
            return np.zeros((0, TALLY_COLUMNS), dtype=np.int64)
        return np.concatenate(which)


def _full_rows(answers: dict, ruleset: engine_rules.Rulebook) -> tuple[int, ...]:
    return tally_row(tally(fired_rules(answers, ruleset)))


def ruleset_impact(*, draft: RuleSet, reports, changed_page: int | str = 1) -> RulesetImpact:
    """How the verdicts of submitted assessments would change if `draft` were published.

    `reports` is the Report queryset to weigh (the latest report of each submitted
    assessment). Each report's stored rule firings are re-tallied under the current
    ruleset's and the draft's weights and switches (advisor/rulesets/impact.py), with no
    answer read. Where a rule's condition differs from the report's ruleset (a rules-file
    import), that condition alone is evaluated against the report's answers; a report is
    scored in full only when the question bank changed since. Answers that no longer
    validate are counted apart, with the reason. The changed assessments are listed a page
    of IMPACT_PAGE_SIZE at a time, oldest first; `changed_page` is read as Django's
    `Paginator.get_page` reads a page number (not a number: the first; past the end: the
    last).
    """
    baseline = RuleSet.objects.current()
    differences = tuple(_rule_differences(baseline, draft))
    if baseline is None:  # nothing published, so no report either
        empty = Paginator((), IMPACT_PAGE_SIZE).get_page(1)
        return RulesetImpact(draft, None, 0, 0, (), empty, (), (), (), 0, 0, 0, differences)
    before_rules = engine_ruleset_for(baseline)
    after_rules = draft.to_engine()
    bank = default_bank()
    tallies = _Tallies()
    read_answers = 0  # reports whose answers were read for a changed condition
    for source in RuleSet.objects.published().order_by("pk"):  # reports use published ones
        source_rules = engine_ruleset_for(source)
        of_source = reports.filter(ruleset=source, bank_version=bank.version).order_by()
        before = Retally.build(source=source_rules, target=before_rules)
        after = Retally.build(source=source_rules, target=after_rules)
        width = mask_width(source_rules)
        if not (before.unknown or after.unknown):
            # In no particular order: sorting 100,000 rows costs more than the rest.
            stored = list(of_source.values_list("matched_rules", flat=True))
            masks = masks_array(stored, width)
            tallies.add(
                _Stored(of_source, "matched_rules", stored), before.rows(masks), after.rows(masks)
            )
            continue
        # A condition changed (a rules-file import): the same mask may now part ways, so
        # each report is told apart by its key, and the changed conditions (only those)
        # are evaluated against the answers they read (stored as validated at submission).
        changed_rules = before.unknown + after.unknown
        asked = sorted({q for rule in changed_rules for q in rule.when.questions()})
        keys, stored, answers = [], [], []
        read = [KeyTransform(question, "answers") for question in asked]
        for key, mask, *values in of_source.values_list("pk", "matched_rules", *read):
            keys.append(key)
            stored.append(mask)
            answers.append({q: v for q, v in zip(asked, values, strict=True) if v is not None})
        masks = masks_array(stored, width)
        read_answers += len(keys)
        tallies.add(
            _Stored(of_source, "pk", keys),
            before.rows(masks, before.evaluated(answers)),
            after.rows(masks, after.evaluated(answers)),
        )
    # Reports of an older question bank: their answers are validated again and scored.
    older_bank = reports.exclude(bank_version=bank.version).order_by("created_at", "pk")
    unscorable, unscorable_count = [], 0
    before_rows, after_rows, scored = [], [], []
    for report in older_bank.only("pk", "title", "answers", "created_at", "assessment_id"):
        try:
            answers = validate_answers(report.answers, bank, fill_defaults=True)
        except AnswersError as error:
            unscorable_count += 1
            if len(unscorable) < IMPACT_LISTED:
                unscorable.append((report, str(error)))
            continue
        before_rows.append(_full_rows(answers, before_rules))
        after_rows.append(_full_rows(answers, after_rules))
        scored.append(report)
    if scored:
        tallies.add(
            _Scored(scored),
            np.array(before_rows, dtype=np.int64),
            np.array(after_rows, dtype=np.int64),
        )

    before = outcomes(tallies.stacked(tallies.before), close_call_margin=baseline.close_call_margin)
    after = outcomes(tallies.stacked(tallies.after), close_call_margin=draft.close_call_margin)
    changed = before.codes != after.codes
    pairs, pair_counts = np.unique(before.codes * len(OUTCOMES) + after.codes, return_counts=True)
    shift = np.round(after.kafka_scores - before.kafka_scores, 1)
    values, counts = np.unique(shift, return_counts=True)
    changing = dict(zip(*np.unique(shift[changed], return_counts=True), strict=True))
    changed_count = int(changed.sum())
    page = Paginator(range(changed_count), IMPACT_PAGE_SIZE).get_page(changed_page)
    return RulesetImpact(
        draft=draft,
        baseline=baseline,
        total=len(before.codes),
        changed_count=changed_count,
        changed=tuple(_changed_page(tallies.segments, before, after, changed, page)),
        changed_page=page,
        transitions=tuple(
            (OUTCOMES[pair // len(OUTCOMES)], OUTCOMES[pair % len(OUTCOMES)], int(count))
            for pair, count in zip(pairs.tolist(), pair_counts.tolist(), strict=True)
        ),
        shifts=tuple(
            (value, count, int(changing.get(value, 0)))
            for value, count in zip(values.tolist(), counts.tolist(), strict=True)
        ),
        unscorable=tuple(unscorable),
        unscorable_count=unscorable_count,
        rescored=len(scored),
        read_answers=read_answers,
        differences=differences,
    )


def _verdict(result: Outcomes, index: int) -> Verdict:
    scores = {
        "artemis": float(result.artemis_scores[index]),
        "kafka": float(result.kafka_scores[index]),
    }
    return Verdict(result.recommendation(index), scores)


@dataclass(frozen=True)
class _Scored:
    """Rows scored in full: their reports, oldest first."""

    reports: list


@dataclass(frozen=True)
class _Stored:
    """Rows tallied from what their reports store. Each row stands for every report whose
    `field` holds its value: its mask (one mask, one verdict) or, where conditions were
    evaluated against the answers, its report's key."""

    queryset: Any
    field: str  # "matched_rules" or "pk"
    values: list


def _plain(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


def _changed_page(segments, before, after, changed, page: Page) -> list[AssessmentImpact]:
    """The changed assessments on `page`, in the order of all of them: oldest first."""
    if not page.object_list:
        return []
    stop = page.end_index()  # every segment gives its `stop` oldest; the page is cut from those
    fields = ("pk", "title", "answers", "created_at", "assessment_id", "matched_rules")
    listed: list[tuple[Any, AssessmentImpact]] = []
    start = 0
    for identity, size in segments:
        indices = (np.flatnonzero(changed[start : start + size]) + start).tolist()
        if not indices:
            rows = []
        elif isinstance(identity, _Scored):
            rows = [(identity.reports[index - start], index) for index in indices[:stop]]
        else:
            # Rows are in no order: the oldest reports holding a changed row's value are
            # asked of the database.
            wanted = {_plain(identity.values[index - start]): index for index in indices}
            reports = identity.queryset.filter(**{f"{identity.field}__in": list(wanted)})
            rows = [
                (report, wanted[_plain(getattr(report, identity.field))])
                for report in reports.only(*fields).order_by("created_at", "pk")[:stop]
            ]
        start += size
        listed.extend(
            (
                (report.created_at, str(report.pk)),
                AssessmentImpact(report, _verdict(before, index), _verdict(after, index)),
            )
            for report, index in rows
        )
    listed.sort(key=lambda pair: pair[0])
    return [impact for _, impact in listed[page.start_index() - 1 : stop]]


@dataclass(frozen=True)
class RuleChange:
    """One field of one rule changed by someone at some time (from the history)."""

    when: Any
    user: Any
    rule: str
    field: str
    before: Any
    after: Any


TRACKED_FIELDS = ("weight", "enabled")


def ruleset_rule_changes(*, ruleset: RuleSet) -> list[RuleChange]:
    """Who changed which rule's weight (or switched it on/off), from what to what, when.

    Newest first. Read from django-simple-history's HistoricalRule rows.
    """
    records = (
        Rule.history.filter(ruleset_id=ruleset.pk)
        .select_related("history_user")
        .order_by("id", "history_date", "history_id")
    )
    changes = []
    previous = None
    for record in records:
        if previous is not None and previous.id == record.id:
            for field in TRACKED_FIELDS:
                old, new = getattr(previous, field), getattr(record, field)
                if old != new:
                    changes.append(
                        RuleChange(
                            when=record.history_date,
                            user=record.history_user,
                            rule=record.rule_id,
                            field=field,
                            before=old,
                            after=new,
                        )
                    )
        previous = record
    changes.sort(key=lambda change: change.when, reverse=True)
    return changes


def ruleset_export(*, ruleset: RuleSet) -> str:
    """The ruleset as a rules file, in the format of `advisor/data/rules.json`."""
    data = engine_rules.ruleset_to_data(ruleset.to_engine())
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def rules_file_parse(content: bytes | str, *, name: str) -> Any:
    """The JSON of an uploaded rules file; DataFileError naming line and column if bad."""
    return parse_json_text(content, name=name)


@transaction.atomic
def ruleset_import(*, data: Any, user, name: str = "rules.json") -> RuleSet:
    """Validate a rules file's JSON and store it as a new draft 'vN'.

    Raises DataFileError naming the file, the rule and the field; nothing is stored then.
    The draft is compared with (and based on) the current published ruleset.
    """
    parsed = engine_rules.parse_ruleset(data, bank=default_bank(), path=Path(name))
    draft = ruleset_create(
        ruleset=parsed,
        state=RuleSet.State.DRAFT,
        based_on=RuleSet.objects.current(),
        version=ruleset_next_version(),
        user=user,
    )
    draft.notes = IMPORTED_NOTE.format(name=Path(name).name, version=parsed.version)
    draft.save(update_fields=["notes"])
    _record_initial_history(ruleset=draft, user=user, reason=draft.notes)
    return draft
