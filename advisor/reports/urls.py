"""Report pages: the owner's, shared links, exports. Included by advisor/urls.py."""

from django.urls import path

from advisor.reports import views

urlpatterns = [
    path("reports/<uuid:report_id>/", views.report_detail, name="report"),
    path("reports/<uuid:report_id>/report.json", views.report_json, name="report_json"),
    path("reports/<uuid:report_id>/adr.md", views.report_adr, name="report_adr"),
    path("reports/<uuid:report_id>/rescore/", views.report_rescore, name="report_rescore"),
    path("reports/<uuid:report_id>/links/", views.share_link_new, name="share_link_new"),
    path(
        "reports/<uuid:report_id>/links/<int:link_id>/revoke/",
        views.share_link_revoke_view,
        name="share_link_revoke",
    ),
    path("s/<str:token>/", views.shared, name="shared"),
    path("s/<str:token>/report.json", views.shared_json, name="shared_json"),
    path("s/<str:token>/adr.md", views.shared_adr, name="shared_adr"),
    path("s/<str:token>/rescore/", views.shared_rescore, name="shared_rescore"),
]
