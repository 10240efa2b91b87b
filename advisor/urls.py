from django.urls import path

from advisor import views

app_name = "advisor"
urlpatterns = [
    path("trade-offs/", views.tradeoffs, name="tradeoffs"),
    path("reports/<uuid:report_id>/", views.report_detail, name="report"),
]
