"""Subscriber portal routes."""

from django.urls import path

from billing.portal import views

app_name = "portal"

urlpatterns = [
    path("portal/<str:token>/", views.portal, name="page"),
    path("portal/<str:token>/boleto/<int:charge_id>/print/", views.charge_print, name="charge_print"),
    path("portal/<str:token>/carne/<int:carne_id>/print/", views.carne_print, name="carne_print"),
    path("portal/<str:token>/desbloqueio/", views.trust_unblock, name="trust_unblock"),
    path("portal/<str:token>/boleto/<int:charge_id>/second-copy/", views.second_copy, name="second_copy"),
]
