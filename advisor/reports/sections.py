"""Sections that other parts add to a report: a block on its page and a key in its exports.

The reports part knows nothing of demo runs. The demo-runs part registers its section
when the app starts (``advisor/apps.py``), so dependencies run one way: demo runs
build on reports, never the reverse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from advisor.reports.models import Report


@dataclass(frozen=True)
class ReportSection:
    name: str  # its key in report.json and in the ADR's context, e.g. "demo_runs"
    template: str  # rendered on the report page with the context below
    page_context: Callable[..., dict]  # (report, *, is_owner) -> the template's context
    export: Callable[[Report], Any]  # what report.json and the ADR carry; falsy for nothing
    adr_template: str = ""  # a Markdown fragment rendered with {"data": export(report)}


_sections: dict[str, ReportSection] = {}


def register_section(section: ReportSection) -> None:
    _sections[section.name] = section


def report_sections() -> list[ReportSection]:
    return list(_sections.values())


def sections_page_context(report: Report, *, is_owner: bool) -> list[dict]:
    """Each section's template and context, in registration order, for the report page."""
    return [
        {"template": section.template, **section.page_context(report, is_owner=is_owner)}
        for section in report_sections()
    ]


def sections_export(report: Report) -> dict[str, Any]:
    """Each section's export, keyed by name."""
    return {section.name: section.export(report) for section in report_sections()}
