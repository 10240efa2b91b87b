"""Logging for the development server (config/settings/local.py)."""

from __future__ import annotations

import logging
import re

# A demo-run page, also what a running run's progress polls once a second.
DEMO_RUN_GET = re.compile(r'^"GET /demos/[0-9a-f-]{36}/(\?[^ "]*)? HTTP/[0-9.]+"')


class QuietPolls(logging.Filter):
    """Drop the request lines of demo-run GETs that succeeded: one a second per running run.

    Errors (4xx, 5xx) still show. The same filter hides a full page load of a demo run,
    which is the same URL; nothing else is hidden.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is None or status >= 400:
            return True
        return not DEMO_RUN_GET.match(record.getMessage())
