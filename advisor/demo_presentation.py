"""The demo-runs section of the recommendation and shared report pages (issue 6)."""

from advisor.models import Report


def demo_section_context(report: Report, *, is_owner: bool) -> dict:
    """Context for templates/advisor/demo_runs_section.html."""
    return {"report": report, "is_owner": is_owner, "runs": []}


def demo_runs_export(assessment) -> list[dict]:
    """The finished demo runs of an assessment, for the JSON and ADR exports."""
    return []
