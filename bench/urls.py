"""The project's URLconf plus the floor views (bench/floors.py), for the benchmark server only."""

from django.urls import path

from bench import floors
from cashman_site.urls import handler400, handler403, handler404, handler500, urlpatterns

urlpatterns = [
    path("bench/floor/<str:scenario>/", floors.floor, name="bench-floor"),
    path("bench/orm/<str:scenario>/", floors.orm_floor, name="bench-orm-floor"),
    *urlpatterns,
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
