"""The collection cycle in the admin: "Gerar cobranças" (preview, run, progress) and the records it
keeps (billing runs, trust unblocks)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from billing.forms import BillingRunForm
from billing.models import BillingRun, BillingRunState, TrustUnblock
from billing.services import billing_run_jobs
from core.admin import ReadOnlyAdminMixin, acting_user, badge
from core.audit import ADDITION, log_staff_action
from core.display import data_table
from core.errors import ApplicationError

#: Who may generate charges: the same people who may issue one by hand.
RUN_PERMISSION = "billing.add_charge"
RUN_STATE_COLORS = {
    BillingRunState.QUEUED: "#6c757d",
    BillingRunState.RUNNING: "#0d6efd",
    BillingRunState.DONE: "#198754",
    BillingRunState.FAILED: "#dc3545",
}


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # Which month, which account, how it went; who asked for it is on the run's page.
    list_display = (
        "created_at",
        "month_display",
        "bank_account",
        "state_display",
        "created",
        "amount",
        "skipped",
        "failed",
    )
    list_filter = ("state", "bank_account")
    list_select_related = ("bank_account",)
    date_hierarchy = "created_at"
    change_list_template = "admin/billing/billingrun/change_list.html"
    fields = (
        "month_display",
        "bank_account",
        "state_display",
        "requested_by",
        "created_at",
        "started_at",
        "finished_at",
        "customers_total",
        "customers_done",
        "created",
        "amount",
        "skipped",
        "reasons_display",
        "queued",
        "failed",
        "errors_display",
    )
    readonly_fields = fields

    @admin.display(description=_("skipped, by reason"))
    def reasons_display(self, obj: BillingRun) -> str:
        """Each reason in words (the run stores the English text), with how many customers."""
        ranked = sorted(obj.reasons.items(), key=lambda item: -item[1])
        return data_table({str(_(reason)): count for reason, count in ranked}) if ranked else "-"

    @admin.display(description=_("errors"))
    def errors_display(self, obj: BillingRun) -> str:
        return format_html_join("", "<p>{}</p>", ((error,) for error in obj.errors)) if obj.errors else "-"

    @admin.display(description=_("month"), ordering="month")
    def month_display(self, obj: BillingRun) -> str:
        return obj.month.strftime("%m/%Y")

    @admin.display(description=_("state"), ordering="state")
    def state_display(self, obj: BillingRun) -> Any:
        return badge(obj.get_state_display(), RUN_STATE_COLORS.get(obj.state, "#6c757d"))  # type: ignore[call-overload]

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("generate/", wrap(self.generate_view), name="billing_billingrun_generate"),
            path("<int:pk>/progress/", wrap(self.progress_view), name="billing_billingrun_progress"),
            path("<int:pk>/progress.json", wrap(self.progress_json), name="billing_billingrun_progress_json"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        extra = {**(extra_context or {}), "can_generate": request.user.has_perm(RUN_PERMISSION)}
        return super().changelist_view(request, extra)

    def _context(self, request: HttpRequest, title: Any, **values: Any) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "title": title, "opts": self.opts, **values}

    def generate_view(self, request: HttpRequest) -> HttpResponse:
        """Step 1, the preview (a dry run); step 2, the run (a task), then its progress page."""
        if not request.user.has_perm(RUN_PERMISSION):
            raise PermissionDenied
        form = BillingRunForm(request.POST or None)
        preview = None
        if request.method == "POST" and form.is_valid():
            month = form.cleaned_data["month"]
            account = form.cleaned_data["bank_account"]
            account_id = account.pk if account else None
            if request.POST.get("run") == "yes":
                try:
                    run = billing_run_jobs.billing_run_request(
                        month=month, account_id=account_id, actor=acting_user(request)
                    )
                except ApplicationError as error:
                    form.add_error(None, error.message)
                else:
                    log_staff_action(
                        user=request.user,
                        objects=run,
                        message=_("Billing run for %(month)s started.") % {"month": month.strftime("%m/%Y")},
                        flag=ADDITION,
                    )
                    self.message_user(
                        request, _("The billing run was started; this page follows it."), messages.SUCCESS
                    )
                    return HttpResponseRedirect(reverse("admin:billing_billingrun_progress", args=[run.pk]))
            else:
                preview = billing_run_jobs.billing_run_preview(month=month, account_id=account_id)
        context = self._context(
            request,
            _("Gerar cobranças"),
            form=form,
            preview=preview,
            media=self.media + form.media,
            **(self._preview_context(preview) if preview else {}),
        )
        return TemplateResponse(request, "admin/billing/billingrun/generate.html", context)

    @staticmethod
    def _preview_context(preview: billing_run_jobs.Preview) -> dict[str, Any]:
        result = preview.result
        return {
            "preview_rows": [
                {"name": result.account_names.get(pk, f"#{pk}"), "tally": tally}
                for pk, tally in sorted(result.by_account.items())
            ],
            "preview_reasons": sorted(((_(r), n) for r, n in result.reasons.items()), key=lambda r: -r[1]),
            "skipped_not_listed": result.total("skipped") - len(preview.skipped),
        }

    def _run(self, request: HttpRequest, pk: int) -> BillingRun:
        run = get_object_or_404(BillingRun.objects.select_related("bank_account", "requested_by"), pk=pk)
        if not self.has_view_permission(request, run):
            raise PermissionDenied
        return run

    def progress_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = self._run(request, pk)
        finished = run.state in (BillingRunState.DONE, BillingRunState.FAILED)
        context = self._context(
            request,
            _("Billing run %(month)s") % {"month": run.month.strftime("%m/%Y")},
            run=run,
            finished=finished,
            state_badge=self.state_display(run),
            reasons=sorted(
                ((_(reason), count) for reason, count in run.reasons.items()), key=lambda r: -r[1]
            ),
        )
        return TemplateResponse(request, "admin/billing/billingrun/progress.html", context)

    def progress_json(self, request: HttpRequest, pk: int) -> JsonResponse:
        run = self._run(request, pk)
        return JsonResponse(
            {
                "state": run.state,
                "percent": run.percent,
                "customers_done": run.customers_done,
                "customers_total": run.customers_total,
                "created": run.created,
            }
        )


@admin.register(TrustUnblock)
class TrustUnblockAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("granted_at", "customer", "cycle_display", "granted_on", "last_day", "by")
    list_select_related = ("customer", "actor")
    search_fields = ("customer__name", "=customer__document")
    date_hierarchy = "granted_at"
    fields = ("customer", "cycle_display", "granted_on", "last_day", "granted_at", "by")
    readonly_fields = fields

    @admin.display(description=_("billing cycle"), ordering="cycle")
    def cycle_display(self, obj: TrustUnblock) -> str:
        return obj.cycle.strftime("%m/%Y")

    @admin.display(description=_("by"))
    def by(self, obj: TrustUnblock) -> str:
        return obj.actor.get_username() if obj.actor else obj.actor_label or "-"
