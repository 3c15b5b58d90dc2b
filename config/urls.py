"""Root URLs. Each area keeps its own urls module; this file only mounts them."""

from django.contrib import admin
from django.urls import include, path

from config.health import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("", include("billing.api.urls")),
    path("", include("billing.portal.urls")),
]
