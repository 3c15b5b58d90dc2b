"""Staff print pages (the subscriber's print pages hang under the portal's token)."""

from django.urls import path

from billing.printing import views

app_name = "print"

urlpatterns = [
    path("print/charge/<int:charge_id>/", views.charge_print, name="charge"),
    path("print/carne/<int:carne_id>/", views.carne_print, name="carne"),
]
