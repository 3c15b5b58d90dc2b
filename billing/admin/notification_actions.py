"""The notifications admin's "reprocess" action: the same service as the API view and the tasks.

Kept apart from ``billing/admin/notifications.py`` (which lists it in ``actions``): the admin is
read-only, so the action has its own permission, granted to whoever may change notifications.
"""

from __future__ import annotations

from collections import Counter

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.labels import notification_outcome_label
from billing.models import Notification
from billing.services.notifications import notification_process
from core.admin import confirmation_page, is_confirmed
from core.audit import log_staff_action

#: At most this many per action: each one may call the gateway.
MAX_REPROCESS = 100


def has_reprocess_permission(modeladmin: admin.ModelAdmin, request: HttpRequest) -> bool:
    """``has_<name>_permission`` for ``@admin.action(permissions=["reprocess"])``."""
    return request.user.has_perm("billing.change_notification")


@admin.action(description=gettext_lazy("Process the selected notifications again"), permissions=["reprocess"])
def reprocess_selected(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Notification]
) -> TemplateResponse | None:
    chosen = list(queryset.order_by("pk")[: MAX_REPROCESS + 1])
    if len(chosen) > MAX_REPROCESS:
        modeladmin.message_user(
            request,
            _("Select at most %(max)d notifications at a time.") % {"max": MAX_REPROCESS},
            messages.ERROR,
        )
        return None
    if not is_confirmed(request):
        return confirmation_page(
            modeladmin,
            request,
            queryset,
            action="reprocess_selected",
            title=_("Process notifications again"),
            question=_(
                "Process these notifications again? The gateway is asked again; a payment already "
                "recorded is never recorded twice."
            ),
            confirm_label=_("Yes, process them"),
            items=[
                f"#{n.pk} · {n.gateway} · {n.get_status_display()} · {n.charge_reference or '-'}"
                for n in chosen
            ],
        )
    outcomes: Counter[str] = Counter()
    for notification in chosen:
        outcome = notification_process(notification.pk, actor_label=f"admin:{request.user}").outcome
        outcomes[outcome] += 1
        log_staff_action(
            user=request.user,
            objects=notification,
            message=_("Processed again: %(outcome)s.") % {"outcome": notification_outcome_label(outcome)},
        )
    summary = ", ".join(
        f"{notification_outcome_label(outcome)}: {count}" for outcome, count in sorted(outcomes.items())
    )
    modeladmin.message_user(
        request, _("Processed again: %(summary)s.") % {"summary": summary}, messages.SUCCESS
    )
    return None
