"""The advisor's pages under one URL namespace, 'advisor:'; each part lists its own paths."""

from django.urls import path

from advisor import tradeoffs
from advisor.reports import urls as report_urls

app_name = "advisor"
urlpatterns = [
    path("trade-offs/", tradeoffs.tradeoffs, name="tradeoffs"),
    *report_urls.urlpatterns,
]
