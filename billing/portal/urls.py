"""Subscriber portal routes."""

urlpatterns: list = []
