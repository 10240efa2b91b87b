"""Reports, share links and demo runs in the admin: listed read-only, for operating the app."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from advisor.demoruns.models import DemoRun
from advisor.reports.models import Report, ShareLink


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the app's services: administrators look, and may delete.

    These tables grow with every visitor: pages of 50, and no exact count of a filtered
    list (a COUNT over every row on each page view).
    """

    list_per_page = 50
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "recommendation", "ruleset", "created_at", "share_link_count"]
    list_filter = ["recommendation", "ruleset"]
    search_fields = ["title", "id"]
    date_hierarchy = "created_at"
    list_select_related = ["ruleset"]
    # The owner's session fingerprint opens nothing, but it is not for reading either.
    exclude = ["owner_session"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Report]:
        return super().get_queryset(request).annotate(share_link_count=Count("share_links"))

    @admin.display(description="share links", ordering="share_link_count")
    def share_link_count(self, report: Report) -> int:
        return report.share_link_count


@admin.register(ShareLink)
class ShareLinkAdmin(ReadOnlyAdmin):
    # Only the token's first characters are known: the token itself is never stored.
    list_display = ["__str__", "report", "token_hint", "created_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    list_select_related = ["report"]


@admin.register(DemoRun)
class DemoRunAdmin(ReadOnlyAdmin):
    list_display = ["scenario", "engine", "status", "progress", "attempts", "created_at", "error"]
    list_filter = ["status", "scenario", "engine"]
    date_hierarchy = "created_at"
    exclude = ["owner_session", "owner_client"]
