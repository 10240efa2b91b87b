from django.urls import path

from questionnaire import api, views

app_name = "questionnaire"
urlpatterns = [
    path("", views.home, name="home"),
    path("assessments/new/", views.assessment_new, name="new"),
    path("assessments/<uuid:assessment_id>/", views.assessment_resume, name="resume"),
    path(
        "assessments/<uuid:assessment_id>/<slug:section_id>/",
        views.assessment_step,
        name="step",
    ),
    path("api/v1/assessments", api.assessments_create, name="api_assessments"),
    path("api/v1/openapi.json", api.openapi_json, name="api_openapi"),
]
