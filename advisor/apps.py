from django.apps import AppConfig


class AdvisorConfig(AppConfig):
    name = "advisor"
    verbose_name = "Advisor rules"

    def ready(self) -> None:
        from advisor import checks  # noqa: F401  (registers the data-file check)
