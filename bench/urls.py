"""The product's URLs plus what benchmarks compare against (mounted by bench/settings.py only)."""

from django.urls import path

from bench.views import BaselineView
from config.urls import urlpatterns as product_urlpatterns

urlpatterns = [
    path("bench/baseline/", BaselineView.as_view(), name="bench-baseline"),
    *product_urlpatterns,
]
