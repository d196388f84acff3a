from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from accounts.throttling import session_login_throttled
from cashman_site import exception_handler, health

# Redoc always shows its maker's logo from their CDN (it has no option to hide it); on this one
# page, the CSP lets that one image through rather than log a violation.
redoc = csp_update({"img-src": ["https://cdn.redoc.ly"]})(
    SpectacularRedocView.as_view(url_name="schema")
)

# Django tries these in order: the API, which nearly every request is for, comes first.
urlpatterns = [
    path("api/v1/auth/", include("accounts.urls")),
    path("api/v1/", include("cashman_site.api_router")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # The session logins, under auth/token/'s rate limits (per address, and failed logins per
    # account); the same views as the includes below, which still name them.
    path("admin/login/", session_login_throttled(admin.site.login)),
    path("admin/", admin.site.urls),
    path(
        "api-auth/login/",
        session_login_throttled(LoginView.as_view(template_name="rest_framework/login.html")),
    ),
    path("api-auth/", include("rest_framework.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script as a file (?script), not inline: the CSP
    # forbids inline scripts.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", redoc, name="redoc"),
    # Anything else under /api/ is a JSON 404, even with DEBUG on.
    re_path(r"^api/", exception_handler.api_not_found),
]

handler400 = "cashman_site.exception_handler.bad_request"
handler403 = "cashman_site.exception_handler.permission_denied"
handler404 = "cashman_site.exception_handler.page_not_found"
handler500 = "cashman_site.exception_handler.server_error"
