"""Admin pieces every app shares: badges, read-only admins, guarded actions, confirmation pages, and
changelists that answer bad filter values with the admin's "invalid filter" redirect."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG, ChangeList
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

CONFIRMATION_TEMPLATE = "admin/cobranca/action_confirmation.html"


def badge(text: object, color: str, title: object = "") -> SafeString:
    """A coloured label; ``title`` (shown on hover) may say more than the label has room for."""
    return format_html(
        '<span class="cobranca-badge" style="background:{};color:#fff;padding:1px 7px;'
        'border-radius:9px;font-size:11px;white-space:nowrap"{}>{}</span>',
        color,
        format_html(' title="{}"', title) if title else "",
        text,
    )


class HasEnvironment(Protocol):
    @property
    def is_sandbox(self) -> bool: ...


def environment_badge(account: HasEnvironment | None) -> SafeString | str:
    """ "Sandbox" (test environment) or "Production", from ``BankAccount.is_sandbox``."""
    if account is None:
        return "-"
    if account.is_sandbox:
        return badge(_("Sandbox"), "#fd7e14")
    return badge(_("Production"), "#198754")


class ReadOnlyAdminMixin:
    """Audit data: staff may look, nobody may add, change or delete through the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    classes = ["cobranca-readonly"]
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [str(name) for name in self.fields or []]

    @property
    def media(self) -> forms.Media:
        return super().media + forms.Media(css={"all": ["core/admin/admin.css"]})

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class GuardedActionsMixin:
    """A POSTed action the user may not run answers 403, not a silent "No action selected"."""

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if request.method == "POST":
            requested = set(request.POST.getlist("action"))
            known = {getattr(a, "__name__", a) for a in (self.actions or [])}  # type: ignore[attr-defined]
            allowed = set(self.get_actions(request))  # type: ignore[attr-defined]
            if requested & known - allowed:
                raise PermissionDenied
        return super().changelist_view(request, extra_context)  # type: ignore[misc]


def acting_user(request: HttpRequest) -> AbstractBaseUser | None:
    """The staff member behind an admin request (admin views always have one)."""
    user = request.user
    return user if isinstance(user, AbstractBaseUser) else None


def is_confirmed(request: HttpRequest) -> bool:
    return request.method == "POST" and request.POST.get("post") == "yes"


#: The confirmation page names at most this many rows; the action still applies to all selected.
CONFIRMATION_LIST_LIMIT = 100


def confirmation_page(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    action: str,
    title: StrOrPromise,
    question: StrOrPromise,
    confirm_label: StrOrPromise,
    describe: Callable[[Any], str] = str,
    warn: Callable[[Any], StrOrPromise | None] | None = None,
    form: Any = None,
    items: Iterable[str] | None = None,
) -> TemplateResponse:
    """The intermediate page of a bulk action, as ``delete_selected`` shows before deleting.

    With "select all N" (``select_across``) the page carries that flag and the changelist's filters
    (the form posts back to the same URL) instead of N ids, so thousands of rows stay one small POST.
    ``describe`` names each row; a caller may pass ready-made ``items`` instead.
    """
    shown = list(queryset[:CONFIRMATION_LIST_LIMIT])
    total = queryset.count() if len(shown) == CONFIRMATION_LIST_LIMIT else len(shown)
    select_across = request.POST.get("select_across") == "1"
    # Django runs a confirmed action only when some id is posted; with select_across one is enough.
    selected_ids = [shown[0].pk] if select_across and shown else list(queryset.values_list("pk", flat=True))
    warnings = [message for message in (warn(obj) for obj in shown) if message] if warn else []
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "question": question,
        "confirm_label": confirm_label,
        "items": list(items) if items is not None else [describe(obj) for obj in shown],
        "not_shown": total - len(shown),
        "total": total,
        "select_across": select_across,
        "selected_ids": selected_ids,
        "form": form,
        "warnings": warnings,
        "opts": modeladmin.model._meta,
        "action_name": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, CONFIRMATION_TEMPLATE, context)


#: What evaluating a queryset filtered by a value from the address may raise when the value makes no
#: sense for its field (a year of -1, a number too large for the column, text in a date...).
BAD_LOOKUP_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    KeyError,
    OverflowError,
    ValidationError,
    DataError,
)


class SafeLookupsChangeListMixin:
    """A changelist whose bad lookup values raise ``IncorrectLookupParameters`` (the admin then
    redirects to the whole list, ``?e=1``) wherever they fail: in a list filter, or only when the
    query is compiled and run (Django checks only what fails while the filter is built)."""

    params: dict[str, Any]

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet:
        try:
            return super().get_queryset(request, exclude_parameters)  # type: ignore[misc]
        except BAD_LOOKUP_ERRORS as exc:
            if not self.params:
                raise
            raise IncorrectLookupParameters(exc) from exc

    def get_results(self, request: HttpRequest) -> None:
        try:
            super().get_results(request)  # type: ignore[misc]
            len(self.result_list)  # type: ignore[attr-defined]  # run it now, not while rendering
        except BAD_LOOKUP_ERRORS as exc:
            if not self.params:
                raise
            raise IncorrectLookupParameters(exc) from exc


_safe_changelists: dict[type, type] = {}


class SafeLookupsAdminMixin:
    """Every ModelAdmin of the staff site gets this (``config.admin_site.CobrancaAdminSite.register``)."""

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        changelist = super().get_changelist(request, **kwargs)  # type: ignore[misc]
        if issubclass(changelist, SafeLookupsChangeListMixin):
            return changelist
        return _safe_changelists.setdefault(
            changelist, type(f"Safe{changelist.__name__}", (SafeLookupsChangeListMixin, changelist), {})
        )

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        if list(request.GET) == [ERROR_FLAG]:
            messages.warning(request, _("That filter is not valid here; the whole list is shown."))
        return super().changelist_view(request, extra_context)  # type: ignore[misc]
