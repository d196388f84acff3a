"""The one DefaultRouter every API viewset is registered on (served under /api/v1/)."""

from rest_framework.routers import DefaultRouter

from accounts.views import UserViewSet
from ledger.urls import register as register_ledger

router = DefaultRouter()
# The ledger first: Django tries the routes in order, and its list is the most requested.
register_ledger(router)
router.register("users", UserViewSet, basename="user")

app_name = "api"
urlpatterns = router.urls
