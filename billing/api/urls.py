"""API routes: gateway notifications, MK-Auth's legacy path, the OpenAPI schema."""

urlpatterns: list = []
