"""Subscriber portal routes."""

from django.urls import path

from billing.portal import views

app_name = "portal"

urlpatterns = [
    path("portal/<str:token>/", views.portal, name="page"),
]
