"""Root URLs. Each area keeps its own urls module; this file only mounts them."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, reverse_lazy
from django.views.generic import RedirectView

from config.health import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    # The bare address leads staff to their sign-in page rather than to a "not found".
    path("", RedirectView.as_view(url=reverse_lazy("admin:index")), name="home"),
    # Browsers ask for /favicon.ico on pages that name no icon (JSON answers, the API docs).
    path("favicon.ico", RedirectView.as_view(url=static("favicon.ico"), permanent=True)),
    path("", include("billing.api.urls")),
    path("", include("billing.portal.urls")),
    path("", include("billing.printing.urls")),
]
