"""The recommendation (report) pages: the owner's, the shared read-only one, exports."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from advisor.limits import rate_limited
from advisor.reports.access import owned_report, shared_link, shared_report
from advisor.reports.exports import report_adr_markdown, report_json_text
from advisor.reports.models import Report, ShareLink
from advisor.reports.pagecache import shared_page_get, shared_page_key, shared_page_set
from advisor.reports.presentation import recommendation_context, rescore_context
from advisor.reports.sections import sections_page_context
from advisor.reports.sharing import share_link_create, share_link_revoke

NEW_LINK_SESSION_KEY = "new_share_link"
EXPIRY_CHOICES = {
    "never": None,
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}
UNKNOWN_EXPIRY = "Choose one of the offered expiry periods."
LINKS_PER_PAGE = 10
# Capability URLs: the token must not leak through Referer, search engines or caches.
SHARED_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "private, no-store",
}


def with_shared_headers(response: HttpResponse) -> HttpResponse:
    for name, value in SHARED_HEADERS.items():
        response[name] = value
    return response


def export_filename(report: Report, extension: str) -> str:
    return f"{slugify(report.title) or 'messaging-decision'}-{str(report.pk)[:8]}.{extension}"


def json_export_response(report: Report) -> HttpResponse:
    response = HttpResponse(report_json_text(report), content_type="application/json")
    response["Content-Disposition"] = f'inline; filename="{export_filename(report, "json")}"'
    return response


def adr_export_response(report: Report, *, report_path: str = "") -> HttpResponse:
    text = report_adr_markdown(report, report_path=report_path)
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export_filename(report, "md")}"'
    return response


# The owner's pages and exports are theirs alone (and the report page shows a new share
# link once): never_cache makes them "Cache-Control: no-store, private".
@require_GET
@never_cache
def report_detail(request: HttpRequest, report_id: UUID) -> TemplateResponse:
    report = owned_report(request, report_id)
    links = Paginator(report.share_links.order_by("-created_at", "-pk"), LINKS_PER_PAGE)
    context = recommendation_context(report)
    context.update(
        {
            "is_owner": True,
            "sections": sections_page_context(report, is_owner=True),
            "links": links.get_page(request.GET.get("links_page")),
            "new_link": request.session.pop(NEW_LINK_SESSION_KEY, None),
            "expiry_choices": EXPIRY_CHOICES,
            "json_url": reverse("advisor:report_json", args=[report.pk]),
            "adr_url": reverse("advisor:report_adr", args=[report.pk]),
            "rescore_url": reverse("advisor:report_rescore", args=[report.pk]),
        }
    )
    return TemplateResponse(request, "reports/report.html", context)


@require_POST
@rate_limited("share_link_new")
def share_link_new(request: HttpRequest, report_id: UUID) -> HttpResponseRedirect:
    report = owned_report(request, report_id)
    choice = request.POST.get("expires", "never")
    if choice not in EXPIRY_CHOICES:
        messages.error(request, UNKNOWN_EXPIRY)
        return redirect(reverse("advisor:report", args=[report.pk]) + "#share")
    period = EXPIRY_CHOICES[choice]
    try:
        link, token = share_link_create(
            report=report,
            label=request.POST.get("label", ""),
            expires_at=timezone.now() + period if period else None,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        # Shown once on the next page: only the token's hash is stored.
        request.session[NEW_LINK_SESSION_KEY] = {
            "id": link.pk,
            "url": request.build_absolute_uri(reverse("advisor:shared", args=[token])),
        }
    return redirect(reverse("advisor:report", args=[report.pk]) + "#share")


@require_POST
def share_link_revoke_view(request: HttpRequest, report_id: UUID, link_id: int) -> HttpResponse:
    report = owned_report(request, report_id)
    link = get_object_or_404(ShareLink, pk=link_id, report=report)
    share_link_revoke(link=link)
    # The label in Unicode isolates: its text direction cannot spill into the sentence.
    messages.success(request, f"The link \u2068{link}\u2069 is revoked: it now opens nothing.")
    return redirect(reverse("advisor:report", args=[report.pk]) + "#share")


@require_GET
@never_cache
def report_json(request: HttpRequest, report_id: UUID) -> HttpResponse:
    return json_export_response(owned_report(request, report_id))


@require_GET
@never_cache
def report_adr(request: HttpRequest, report_id: UUID) -> HttpResponse:
    return adr_export_response(owned_report(request, report_id))


@require_GET
@never_cache
def report_rescore(request: HttpRequest, report_id: UUID) -> TemplateResponse:
    report = owned_report(request, report_id)
    back = reverse("advisor:report", args=[report.pk])
    return TemplateResponse(request, "reports/rescore.html", rescore_context(report, back_url=back))


@require_GET
def shared(request: HttpRequest, token: str) -> HttpResponse:
    """The read-only report page, rendered once per report and ruleset version
    (advisor/reports/pagecache.py); the link is checked before the cache is read."""
    link = shared_link(token)
    key = shared_page_key(report_id=link.report_id, ruleset_version=link.current_ruleset_version)
    html = shared_page_get(key)
    if html is None:
        report = Report.objects.select_related("ruleset").get(pk=link.report_id)
        context = recommendation_context(report)
        context.update(
            {
                "is_owner": False,
                "shared": True,
                "sections": sections_page_context(report, is_owner=False),
                # Relative to /s/<token>/, so that the page holds no token, and no
                # visitor's messages: any link to this report may be served this HTML.
                "json_url": "report.json",
                "adr_url": "adr.md",
                "rescore_url": "rescore/",
                "messages": (),
            }
        )
        html = TemplateResponse(request, "reports/report.html", context).rendered_content
        shared_page_set(key, html)
    return with_shared_headers(HttpResponse(html))


@require_GET
def shared_json(request: HttpRequest, token: str) -> HttpResponse:
    return with_shared_headers(json_export_response(shared_report(token)))


@require_GET
def shared_adr(request: HttpRequest, token: str) -> HttpResponse:
    report = shared_report(token)
    path = reverse("advisor:shared", args=[token])
    return with_shared_headers(adr_export_response(report, report_path=path))


@require_GET
def shared_rescore(request: HttpRequest, token: str) -> HttpResponse:
    report = shared_report(token)
    context = rescore_context(report, back_url=reverse("advisor:shared", args=[token]))
    context["shared"] = True
    return with_shared_headers(TemplateResponse(request, "reports/rescore.html", context).render())
