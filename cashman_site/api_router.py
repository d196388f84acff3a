"""The one DefaultRouter every API viewset is registered on (served under /api/v1/)."""

from rest_framework.routers import DefaultRouter

from accounts.views import UserViewSet
from ledger.urls import register as register_ledger

router = DefaultRouter()
router.register("users", UserViewSet, basename="user")
register_ledger(router)

app_name = "api"
urlpatterns = router.urls
