"""Buttons on an object's admin page for what staff may do to it now ("object actions").

A ModelAdmin declares its actions once, each with who may take it (a permission) and when (a
predicate on the object's state); the page shows only the buttons that pass both for the person
looking, and each button that changes something goes through a confirmation page:

    class ChargeAdmin(ObjectActionsMixin, admin.ModelAdmin):
        object_actions = (
            ObjectAction(
                name="cancel",
                label=_("Cancel"),
                permission="billing.change_charge",
                when=lambda charge: charge.state in CANCELLABLE_STATES,
                question=_("Cancel this charge?"),
                form_class=CancelReasonForm,
                perform=lambda request, charge, data: cancel(charge, data["reason"]),
            ),
            ObjectAction(name="boleto", label=_("Open the boleto"), url=lambda charge: charge.link),
        )

Another module adds its own with :func:`add_object_actions` (``add_object_actions(ChargeAdmin,
ObjectAction(...))``). ``perform`` calls a service and returns the sentence that goes into the
object's history (Django's admin log, "Ações recentes") and the success message; it raises
:class:`core.errors.ApplicationError` to refuse with a message. The URL of an action is
``<object id>/do/<name>/``: a GET shows the confirmation page, a POST with ``post=yes`` acts. The
permission and the state are checked again when the POST arrives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from core.audit import log_staff_action
from core.errors import ApplicationError

OBJECT_ACTION_TEMPLATE = "admin/cobranca/object_action.html"


def _always(obj: Any) -> bool:
    return True


@dataclass(frozen=True)
class ObjectAction:
    """One button. Exactly one of ``perform`` (a change, confirmed first), ``url`` (a link that
    opens in a new tab), ``link`` (a screen of the admin with its own form, opened in place) or
    ``copy`` (text copied to the clipboard) says what it does."""

    name: str
    label: StrOrPromise
    #: A permission ("app.codename") the user must have; empty: whoever may view the object.
    permission: str = ""
    #: Whether the action makes sense for the object as it is now (its state).
    when: Callable[[Any], bool] = _always
    perform: Callable[[HttpRequest, Any, dict[str, Any]], StrOrPromise] | None = None
    question: StrOrPromise = ""
    confirm_label: StrOrPromise = _("Confirm")
    form_class: type[forms.Form] | None = None
    #: The form's initial values for the object as it is now (e.g. the amount due today).
    initial: Callable[[Any], dict[str, Any]] | None = None
    #: What the person confirming should see about the object: (label, value) rows shown with the
    #: question (e.g. the new amount and due date a second copy would have).
    facts: Callable[[Any], Sequence[tuple[StrOrPromise, str]]] | None = None
    url: Callable[[Any], str] | None = None
    link: Callable[[Any], str] | None = None
    copy: Callable[[Any], str] | None = None
    #: Shown as a warning-coloured button (cancelling, undoing).
    danger: bool = False

    def allowed(self, request: HttpRequest, obj: Any) -> bool:
        return (not self.permission or request.user.has_perm(self.permission)) and bool(self.when(obj))


def add_object_actions(model_admin: type[ObjectActionsMixin], *actions: ObjectAction) -> None:
    """Plug more buttons into an admin declared elsewhere (each module keeps its own actions)."""
    taken = {action.name for action in model_admin.object_actions}
    for action in actions:
        if action.name in taken:
            raise ValueError(f"object action {action.name!r} is already declared on {model_admin.__name__}")
        taken.add(action.name)
    model_admin.object_actions = (*model_admin.object_actions, *actions)


class ObjectActionsMixin:
    """Use before ``admin.ModelAdmin``; declare ``object_actions``."""

    object_actions: Sequence[ObjectAction] = ()

    @property
    def media(self) -> forms.Media:
        # The copy buttons' script (Media merging keeps one copy when the admin lists it too).
        return super().media + forms.Media(js=["core/admin/copy.js"])  # type: ignore[misc]

    def get_object_actions(self, request: HttpRequest, obj: Any) -> list[ObjectAction]:
        """The actions this person may take on ``obj`` as it is now, in declared order."""
        return [action for action in self.object_actions if action.allowed(request, obj)]

    def object_action_url(self, action: ObjectAction, obj: Any) -> str:
        opts = self.model._meta  # type: ignore[attr-defined]
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_object_action",
            args=[obj.pk, action.name],
            current_app=self.admin_site.name,  # type: ignore[attr-defined]
        )

    def object_action_buttons(self, request: HttpRequest, obj: Any) -> list[dict[str, Any]]:
        buttons = []
        for action in self.get_object_actions(request, obj):
            button: dict[str, Any] = {"name": action.name, "label": action.label, "danger": action.danger}
            if action.url is not None:
                target = action.url(obj)
                if not target:
                    continue
                button["href"] = target
                button["external"] = True
            elif action.link is not None:
                button["href"] = action.link(obj)
            elif action.copy is not None:
                text = action.copy(obj)
                if not text:
                    continue
                button["copy_text"] = text
            else:
                button["href"] = self.object_action_url(action, obj)
            buttons.append(button)
        return buttons

    # --- views -------------------------------------------------------------------------------------
    def get_urls(self) -> list[Any]:
        opts = self.model._meta  # type: ignore[attr-defined]
        view = self.admin_site.admin_view(self.object_action_view)  # type: ignore[attr-defined]
        return [
            path(
                "<path:object_id>/do/<str:action_name>/",
                view,
                name=f"{opts.app_label}_{opts.model_name}_object_action",
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        obj = self.get_object(request, object_id)  # type: ignore[attr-defined]
        if obj is not None:
            extra["object_action_buttons"] = self.object_action_buttons(request, obj)
        return super().change_view(request, object_id, form_url, extra)  # type: ignore[misc]

    def object_action_view(self, request: HttpRequest, object_id: str, action_name: str) -> HttpResponse:
        obj = self.get_object(request, object_id)  # type: ignore[attr-defined]
        if obj is None:
            raise Http404
        if not self.has_view_or_change_permission(request, obj):  # type: ignore[attr-defined]
            raise PermissionDenied
        action = next((a for a in self.object_actions if a.name == action_name), None)
        if action is None or action.perform is None:
            raise Http404
        if action.permission and not request.user.has_perm(action.permission):
            raise PermissionDenied
        back = HttpResponseRedirect(
            reverse(
                f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change",
                args=[obj.pk],
                current_app=self.admin_site.name,  # type: ignore[attr-defined]
            )
        )
        if not action.when(obj):
            self.message_user(  # type: ignore[attr-defined]
                request,
                _("%(action)s is not possible for %(object)s as it is now.")
                % {"action": action.label, "object": obj},
                messages.WARNING,
            )
            return back
        confirmed = request.method == "POST" and request.POST.get("post") == "yes"
        form = (
            action.form_class(
                request.POST if confirmed else None, initial=action.initial(obj) if action.initial else None
            )
            if action.form_class
            else None
        )
        if not confirmed or (form is not None and not form.is_valid()):
            return self._object_action_page(request, obj, action, form, back.url)
        try:
            done = action.perform(request, obj, form.cleaned_data if form is not None else {})
        except ApplicationError as error:
            self.message_user(request, f"{obj}: {error.message}", messages.ERROR)  # type: ignore[attr-defined]
            return back
        log_staff_action(user=request.user, objects=obj, message=done)
        self.message_user(request, f"{obj}: {done}", messages.SUCCESS)  # type: ignore[attr-defined]
        return back

    def _object_action_page(
        self, request: HttpRequest, obj: Any, action: ObjectAction, form: Any, back_url: str
    ) -> TemplateResponse:
        site = self.admin_site  # type: ignore[attr-defined]
        context = {
            **site.each_context(request),
            "title": action.label,
            "subtitle": str(obj),
            "object": obj,
            "opts": obj._meta,
            "question": action.question,
            "facts": action.facts(obj) if action.facts else (),
            "confirm_label": action.confirm_label,
            "danger": action.danger,
            "form": form,
            "back_url": back_url,
            "media": self.media + (form.media if form is not None else forms.Media()),
        }
        request.current_app = site.name
        return TemplateResponse(request, OBJECT_ACTION_TEMPLATE, context)


__all__ = ["ObjectAction", "ObjectActionsMixin", "add_object_actions"]
