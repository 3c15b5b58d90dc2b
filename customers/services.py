"""Customer-level writes that are more than a form save."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from customers.models import BillingType, Customer, new_portal_token


def customers_set_billing_type(
    *, customers: Iterable[Customer] | Iterable[int], billing_type: str, actor: AbstractBaseUser | None = None
) -> int:
    """Switch many customers to título or carnê at once; returns how many changed.

    The next billing run uses the new type; charges already created keep theirs.
    """
    if billing_type not in BillingType.values:
        raise ApplicationError(_("Unknown billing type: %(value)s") % {"value": billing_type})
    ids = [c.pk if isinstance(c, Customer) else int(c) for c in customers]
    with transaction.atomic():
        return (
            Customer.objects.filter(pk__in=ids)
            .exclude(billing_type=billing_type)
            .update(billing_type=billing_type)
        )


def customer_rotate_portal_token(*, customer: Customer) -> Customer:
    """Issue a new portal link; the old one answers 404 from now on."""
    customer.portal_token = new_portal_token()
    customer.save(update_fields=["portal_token", "updated_at"])
    return customer
