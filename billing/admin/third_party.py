"""Admins that other packages register (django-celery-beat's schedules, django-axes' lockouts).

Their actions (e.g. "enable tasks") declare no permission, so Django offers them to anyone who
may view the list: a read-only staff member could switch the hourly sweep off. Here every such
action needs the change permission, and a POSTed action the user may not run answers 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.admin import GuardedActionsMixin

_GUARDED_APPS = {"django_celery_beat", "axes"}


class ChangePermissionActionsMixin:
    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)  # type: ignore[misc]
        if self.has_change_permission(request):  # type: ignore[attr-defined]
            return actions
        return {name: action for name, action in actions.items() if name == "delete_selected"}


def guard_third_party_admins(site: admin.AdminSite = admin.site) -> None:
    for model, model_admin in list(site._registry.items()):
        if model._meta.app_label not in _GUARDED_APPS or isinstance(model_admin, GuardedActionsMixin):
            continue
        guarded = type(
            f"Guarded{type(model_admin).__name__}",
            (GuardedActionsMixin, ChangePermissionActionsMixin, type(model_admin)),
            {},
        )
        site.unregister(model)
        site.register(model, guarded)
