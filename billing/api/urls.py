"""API routes: gateway notifications, MK-Auth's legacy path, the OpenAPI schema and its page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path, re_path, reverse
from drf_spectacular.views import SpectacularAPIView

from billing.api import docs, views

#: The notification endpoints: what the schema describes.
notification_patterns = [
    path(
        "api/notifications/juno/<str:public_id>/",
        views.JunoNotificationView.as_view(),
        name="juno-notification",
    ),
    path(
        "api/notifications/mycontas/<str:public_id>/",
        views.MycontasReturnView.as_view(),
        name="mycontas-notification",
    ),
    path(
        "api/notifications/asaas/<str:public_id>/",
        views.AsaasNotificationView.as_view(),
        name="asaas-notification",
    ),
    path(
        "retorno/juno_confirma.php",
        views.LegacyJunoNotificationView.as_view(),
        name="juno-notification-mkauth",
    ),
]


def api_docs(request: HttpRequest) -> HttpResponse:
    return docs.docs_view(request, patterns=notification_patterns, schema_url=reverse("api-schema"))


urlpatterns = [
    *notification_patterns,
    # Any gateway name: reverse("notification", kwargs={"gateway": ..., "public_id": ...}).
    path(
        "api/notifications/<str:gateway>/<str:public_id>/",
        views.AnyGatewayNotificationView.as_view(),
        name="notification",
    ),
    re_path(r"^api/notifications/(?P<rest>.*)$", views.UnknownNotificationPathView.as_view()),
    path("api/schema/", SpectacularAPIView.as_view(patterns=notification_patterns), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
]
