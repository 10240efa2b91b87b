"""Demo-run pages (issue 6). Included from config/urls.py."""

app_name = "demos"
urlpatterns: list = []
