"""Bank accounts, as billing extends them: "reconcile now" compares an account with its gateway.

``providers`` knows nothing of billing: this admin subclasses its ``BankAccountAdmin`` and takes
its place in the admin site, as the customer's page does.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core import queue
from core.admin import confirmation_page, is_confirmed
from core.audit import log_staff_action
from gateways.registry import supports_listing
from providers.admin import BankAccountAdmin
from providers.models import BankAccount


class BillingBankAccountAdmin(BankAccountAdmin):
    actions = ("reconcile_now",)

    @admin.action(description=_("Reconcile now with the gateway"), permissions=["change"])
    def reconcile_now(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        """The daily comparison, at once: payments, cancellations and open charges at the gateway."""
        if not is_confirmed(request):
            return confirmation_page(
                self,
                request,
                queryset,
                action="reconcile_now",
                title=_("Reconcile now"),
                question=_(
                    "Compare these accounts' charges with their gateway now? Payments the gateway has and "
                    "we do not are recorded, charges cancelled there are cancelled here; each run is listed "
                    "under Reconciliation runs within a few minutes."
                ),
                confirm_label=_("Yes, reconcile them"),
                describe=lambda account: f"{account.name} · {account.get_gateway_display()}",
                warn=lambda account: (
                    None
                    if supports_listing(account.gateway) and account.active
                    else _("%(account)s cannot be compared (inactive, or its gateway lists nothing).")
                    % {"account": account.name}
                ),
            )
        accounts = [a for a in queryset if a.active and supports_listing(a.gateway)]
        for account in accounts:
            queue.enqueue(queue.RECONCILE_ACCOUNT, account.pk)
        log_staff_action(user=request.user, objects=accounts, message=str(_("Reconciliation requested.")))
        self.message_user(
            request,
            ngettext(
                "%(count)d account will be reconciled in a moment.",
                "%(count)d accounts will be reconciled in a moment.",
                len(accounts),
            )
            % {"count": len(accounts)},
            messages.SUCCESS,
        )
        return None


admin.site.unregister(BankAccount)
admin.site.register(BankAccount, BillingBankAccountAdmin)
