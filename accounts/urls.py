from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework_simplejwt.views import TokenRefreshView

from accounts import views

auth_tag = extend_schema_view(post=extend_schema(tags=["auth"]))

urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="auth-register"),
    path("token/", auth_tag(views.TokenObtainView).as_view(), name="auth-token"),
    path("token/refresh/", auth_tag(TokenRefreshView).as_view(), name="auth-token-refresh"),
    path("logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("me/", views.MeView.as_view(), name="auth-me"),
    path("password/", views.PasswordChangeView.as_view(), name="auth-password"),
]
