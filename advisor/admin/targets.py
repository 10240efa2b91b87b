"""Broker targets for live demo runs: registered here by an administrator, never by users.

The password field is write-only: the form never renders the stored value, and leaving it
empty on an edit keeps the stored one.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin

from advisor.demoruns.models import BrokerTarget

KEEP_PASSWORD = "Leave empty to keep the stored password."


class BrokerTargetForm(forms.ModelForm):
    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=KEEP_PASSWORD,
    )
    clear_password = forms.BooleanField(required=False, label="Remove the stored password")

    class Meta:
        model = BrokerTarget
        fields = [
            "name",
            "product",
            "addresses",
            "version",
            "username",
            "password",
            "clear_password",
            "tls",
            "tls_ca_file",
            "tls_verify_hostname",
            "sasl_mechanism",
            "enabled",
            "local",
        ]

    def clean_password(self) -> str:
        typed = self.cleaned_data.get("password", "")
        if not typed and self.instance.pk:
            return self.instance.password
        return typed

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("clear_password"):
            cleaned["password"] = ""
            self.instance.password = ""
        return cleaned


@admin.register(BrokerTarget)
class BrokerTargetAdmin(admin.ModelAdmin):
    form = BrokerTargetForm
    list_display = ["name", "product", "addresses", "version", "tls", "has_password", "enabled"]
    list_filter = ["product", "enabled", "tls", "local"]
    search_fields = ["name", "addresses"]

    @admin.display(boolean=True, description="password set")
    def has_password(self, target: BrokerTarget) -> bool:
        return bool(target.password)
