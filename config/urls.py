from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("questionnaire.urls")),
    path("", include("advisor.urls")),
    path("", include("advisor.demoruns.urls")),
]
