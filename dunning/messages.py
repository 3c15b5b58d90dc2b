"""Reminder texts: Brazilian Portuguese templates filled in with one charge's facts.

Templates live in ``templates/dunning/reminders/``: ``before``, ``due`` and ``after`` (by the sign of
the step's day offset) and ``manual`` (sent by staff), each with a ``_subject`` twin. A provider
that wants its own words for one step adds ``step_<offset>.txt`` (e.g. ``step_10.txt``, or
``step_-5.txt``) and its subject to a template directory listed before the app's: that file wins.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.template.loader import select_template
from django.urls import reverse
from django.utils import timezone

from billing.models import Charge
from billing.services.amounts import charge_amount_due
from billing.templatetags.money import brl, linha_digitavel
from dunning.channels import Message
from providers.models import Provider

TEMPLATE_DIR = "dunning/reminders"


@dataclass(frozen=True)
class Facts:
    """What a reminder says about one charge on one day."""

    charge: Charge
    provider: Provider | None
    today: dt.date
    amount_due_today: Decimal


def portal_link(charge: Charge) -> str:
    """The subscriber's own page, at the site's public address (no login: the token is the key)."""
    return settings.PUBLIC_BASE_URL + reverse("portal:page", args=[charge.customer.portal_token])


def kind_for(offset: int | None) -> str:
    """Which template a step uses: before the due date, on it, after it, or sent by hand."""
    if offset is None:
        return "manual"
    if offset < 0:
        return "before"
    return "due" if offset == 0 else "after"


def context_for(facts: Facts, *, offset: int | None) -> dict[str, Any]:
    charge, provider = facts.charge, facts.provider
    carne = charge.carne
    return {
        "customer_name": charge.customer.name,
        "provider_name": provider.name if provider else "",
        "provider_phone": provider.phone if provider else "",
        "reference": charge.reference,
        "installment": (
            f"{charge.installment_number}/{carne.installments}" if carne and charge.installment_number else ""
        ),
        "amount": brl(charge.amount),
        "amount_due_today": brl(facts.amount_due_today),
        "due_date": charge.due_date.strftime("%d/%m/%Y"),
        "days": abs((facts.today - charge.due_date).days),
        "linha_digitavel": linha_digitavel(charge.linha_digitavel) if charge.linha_digitavel else "",
        "boleto_link": charge.link,
        "portal_link": portal_link(charge),
        "offset": offset,
    }


def _render(names: list[str], context: dict[str, Any]) -> str:
    return select_template(names).render(context)


def render_message(facts: Facts, *, offset: int | None) -> Message:
    """The reminder for ``facts`` at step ``offset`` (days from the due date; None: sent by hand)."""
    context = context_for(facts, offset=offset)
    kind = kind_for(offset)
    specific = [] if offset is None else [f"{TEMPLATE_DIR}/step_{offset}"]
    names = [*specific, f"{TEMPLATE_DIR}/{kind}"]
    subject = " ".join(_render([f"{name}_subject.txt" for name in names], context).split())
    body = _render([f"{name}.txt" for name in names], context).strip() + "\n"
    charge = facts.charge
    customer = charge.customer
    return Message(
        subject=subject,
        body=body,
        email=customer.email,
        phone=customer.mobile or customer.phone,
        data={
            "kind": kind,
            "step_days": offset,
            "charge_reference": charge.reference,
            "customer_document": customer.document,
            "customer_name": customer.name,
            "due_date": charge.due_date.isoformat(),
            "amount": str(charge.amount),
            "amount_due_today": str(facts.amount_due_today),
            "linha_digitavel": charge.linha_digitavel,
            "boleto_link": charge.link,
            "portal_link": context["portal_link"],
            "sent_at": timezone.now().isoformat(),
        },
    )


def facts_for(charge: Charge, *, provider: Provider | None, today: dt.date) -> Facts:
    return Facts(
        charge=charge, provider=provider, today=today, amount_due_today=charge_amount_due(charge, on=today)
    )
