from django.contrib import admin
from django.urls import include, path

from advisor.limits import rate_limited

# Sign-in attempts per client address, and per username tried from anywhere
# (RATE_LIMITS["admin_login"], ["admin_login_username"]); a limited attempt gets 429.
admin_login = rate_limited("admin_login_username", key="post:username")(
    rate_limited("admin_login")(admin.site.login)
)

urlpatterns = [
    path("admin/login/", admin_login, name="admin_login_limited"),
    path("admin/", admin.site.urls),
    path("", include("questionnaire.urls")),
    path("", include("advisor.urls")),
    path("", include("advisor.demoruns.urls")),
]
