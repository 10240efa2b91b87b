from django.urls import path

app_name = "advisor"
urlpatterns: list = []
