"""Admins that other packages register (django-celery-beat's schedules, django-axes' lockouts).

django-axes' lists also show the browser's whole user-agent string, which pushes them past a
laptop's width, and two columns without a translatable header ("Status", "Expiration"): here they
show who, from where, when and how many failures, with Portuguese headers; the user agent stays
on each row's page.

Their actions (e.g. "enable tasks") declare no permission, so Django offers them to anyone who
may view the list: a read-only staff member could switch the hourly sweep off. Here every such
action needs the change permission, and a POSTed action the user may not run answers 403.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin import GuardedActionsMixin

_GUARDED_APPS = {"django_celery_beat", "axes"}


class ChangePermissionActionsMixin:
    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)  # type: ignore[misc]
        if self.has_change_permission(request):  # type: ignore[attr-defined]
            return actions
        return {name: action for name, action in actions.items() if name == "delete_selected"}


class AccessAttemptColumns:
    list_display = ("attempt_time", "username", "ip_address", "path_info", "failures_since_start", "lockout")

    @admin.display(description=_("lockout"))
    def lockout(self, obj: Any) -> str:
        limit = settings.AXES_FAILURE_LIMIT
        if isinstance(limit, int) and obj.failures_since_start >= limit:
            return str(_("Locked Out"))
        return "-"


class AccessLogColumns:
    list_display = ("attempt_time", "logout_time", "username", "ip_address", "path_info")


class AccessFailureLogColumns:
    list_display = ("attempt_time", "username", "ip_address", "path_info", "locked_out")


_COLUMNS: dict[str, type] = {
    "axes.accessattempt": AccessAttemptColumns,
    "axes.accesslog": AccessLogColumns,
    "axes.accessfailurelog": AccessFailureLogColumns,
}


def guard_third_party_admins(site: admin.AdminSite = admin.site) -> None:
    for model, model_admin in list(site._registry.items()):
        if model._meta.app_label not in _GUARDED_APPS or isinstance(model_admin, GuardedActionsMixin):
            continue
        columns = _COLUMNS.get(model._meta.label_lower)
        guarded = type(
            f"Guarded{type(model_admin).__name__}",
            (
                GuardedActionsMixin,
                ChangePermissionActionsMixin,
                *([columns] if columns else []),
                type(model_admin),
            ),
            {},
        )
        site.unregister(model)
        site.register(model, guarded)
