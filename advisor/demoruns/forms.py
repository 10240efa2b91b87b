"""The form that queues demo runs: one fieldset per scenario, prefilled from the answers.

Bounds come from the scenario's parameters (``advisor.demos.scenarios``): the inputs carry
them as ``min``/``max`` and the messages of ``validate_parameters`` name them on error.
"""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.conf import settings

from advisor.demoruns.models import BrokerTarget
from advisor.demos.scenarios import (
    SCENARIOS,
    Parameter,
    ParameterError,
    Scenario,
    parameters_from_answers,
    validate_parameters,
)
from advisor.engine.knowledge import citations

CHOOSE_ONE = "Choose at least one scenario to run."


class ParameterField(forms.Field):
    """A number input with the parameter's bounds; the core does the checking."""

    def __init__(self, parameter: Parameter, **kwargs):
        self.parameter = parameter
        step = "1" if parameter.kind == "int" else "any"
        attrs = {"min": parameter.minimum, "max": parameter.maximum, "step": step}
        super().__init__(
            label=parameter.label,
            help_text=parameter.help,
            widget=forms.NumberInput(attrs=attrs),
            required=False,
            **kwargs,
        )

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return self.parameter.coerce(value)
        except ParameterError as error:
            raise forms.ValidationError(error.message) from None


class ScenarioForm(forms.Form):
    """One scenario: the 'run it' box and its parameters, named ``<scenario>-<parameter>``."""

    chosen = forms.BooleanField(required=False, label="Run this demo")

    def __init__(self, scenario: Scenario, *args, **kwargs):
        kwargs.setdefault("prefix", scenario.name)
        super().__init__(*args, **kwargs)
        self.scenario = scenario
        self.claims = citations(scenario.claims)
        for parameter in scenario.parameters:
            self.fields[parameter.name] = ParameterField(parameter)

    def parameter_fields(self):
        return [self[parameter.name] for parameter in self.scenario.parameters]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("chosen") or self.errors:
            return cleaned
        # A field left empty takes the value drawn from the answers, not the bare default.
        raw = {
            name: self.initial.get(name) if cleaned.get(name) is None else cleaned[name]
            for name in self.fields
            if name != "chosen"
        }
        try:
            cleaned["parameters"] = validate_parameters(self.scenario.name, raw)
        except ParameterError as error:  # the limits that depend on other parameters
            self.add_error(error.field if error.field in self.fields else None, error.message)
        return cleaned


DRIVERS = [
    ("embedded", "On this machine: both models built on its files, processes and sockets"),
    ("live", "On the real brokers: Apache Kafka and Apache ActiveMQ Artemis"),
]


class RunsOnForm(forms.Form):
    """Where the demos run: embedded, or live on targets an administrator registered.

    Targets are chosen from the enabled ones by id; no address can be typed.
    """

    # Not required: a post without it (the page before live targets existed) runs embedded.
    engine = forms.ChoiceField(choices=DRIVERS, initial="embedded", label="Run on", required=False)
    kafka_target = forms.ModelChoiceField(
        queryset=BrokerTarget.objects.none(), required=False, label="Kafka target"
    )
    artemis_target = forms.ModelChoiceField(
        queryset=BrokerTarget.objects.none(), required=False, label="Artemis target"
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "runs-on")
        super().__init__(*args, **kwargs)
        enabled = BrokerTarget.objects.enabled()
        self.fields["kafka_target"].queryset = enabled.for_product("kafka")
        self.fields["artemis_target"].queryset = enabled.for_product("artemis")
        self.live_available = (
            self.fields["kafka_target"].queryset.exists()
            and self.fields["artemis_target"].queryset.exists()
        )
        if not self.live_available:
            self.fields["engine"].choices = DRIVERS[:1]
        for product in ("kafka", "artemis"):
            first = self.fields[f"{product}_target"].queryset.first()
            if first is not None:
                self.initial.setdefault(f"{product}_target", first.pk)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("engine") == "live":
            for product, label in (("kafka", "Kafka"), ("artemis", "Artemis")):
                if cleaned.get(f"{product}_target") is None and f"{product}_target" not in (
                    self.errors
                ):
                    self.add_error(f"{product}_target", f"choose a {label} target")
        return cleaned

    def options(self) -> dict:
        """The engine and targets for ``demo_run_enqueue``, after is_valid()."""
        if self.cleaned_data.get("engine") != "live":
            return {"engine": "embedded"}
        return {
            "engine": "live",
            "kafka_target": self.cleaned_data["kafka_target"],
            "artemis_target": self.cleaned_data["artemis_target"],
        }


class DemoQueueForm:
    """The five scenario forms together, as the page shows them, and where they run."""

    def __init__(self, answers: Mapping[str, object], data=None):
        self.forms = []
        for name, scenario in SCENARIOS.items():
            initial = parameters_from_answers(name, answers)
            self.forms.append(ScenarioForm(scenario, data=data, initial=initial))
        self.runs_on = RunsOnForm(data=data)
        self.non_field_errors: list[str] = []
        self.limit = settings.DEMO_RUNS_PER_SESSION

    def __iter__(self):
        return iter(self.forms)

    def is_valid(self) -> bool:
        valid = all([form.is_valid() for form in self.forms] + [self.runs_on.is_valid()])
        if valid and not self.chosen():
            self.non_field_errors.append(CHOOSE_ONE)
        return valid and not self.non_field_errors

    def chosen(self) -> list[tuple[str, dict]]:
        """(scenario, validated parameters) for each ticked scenario, after is_valid()."""
        return [
            (form.scenario.name, form.cleaned_data["parameters"])
            for form in self.forms
            if form.cleaned_data.get("chosen") and "parameters" in form.cleaned_data
        ]

    def add_error(self, message: str, scenario: str | None = None, field: str | None = None):
        if field in self.runs_on.fields:
            self.runs_on.add_error(field, message)
            return
        form = next((f for f in self.forms if f.scenario.name == scenario), None)
        if form is None:
            self.non_field_errors.append(message)
        else:
            form.add_error(field if field in form.fields else None, message)
