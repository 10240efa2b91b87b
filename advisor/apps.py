from django.apps import AppConfig


class AdvisorConfig(AppConfig):
    name = "advisor"
    verbose_name = "Messaging Advisor"

    def ready(self) -> None:
        from advisor import (
            checks,  # noqa: F401  (registers the data-file check)
            security,  # noqa: F401  (connects the staff-session expiry)
        )
        from advisor.demoruns.presentation import REPORT_SECTION
        from advisor.reports.sections import register_section

        register_section(REPORT_SECTION)
