"""Demo-run pages. Included from config/urls.py."""

from django.urls import path

from advisor.demoruns import views as demo_views

app_name = "demos"
urlpatterns = [
    path("reports/<uuid:report_id>/demos/", demo_views.demo_runs_queue, name="queue"),
    path("demos/<uuid:run_id>/", demo_views.demo_run_detail, name="run"),
    path("demos/<uuid:run_id>/cancel/", demo_views.demo_run_cancel_view, name="cancel"),
]
