"""Customer-level writes that are more than a form save."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import log_staff_action
from core.errors import ApplicationError
from customers.models import BillingType, Customer, new_portal_token


def customers_set_billing_type(
    *, customers: Iterable[Customer] | Iterable[int], billing_type: str, actor: AbstractBaseUser | None = None
) -> int:
    """Switch many customers to título or carnê at once; returns how many changed.

    The next billing run uses the new type; charges already created keep theirs. Each changed
    customer's admin history records the change and who made it (``actor``), as a change made on
    the customer's own page would be.
    """
    if billing_type not in BillingType.values:
        raise ApplicationError(_("Unknown billing type: %(value)s") % {"value": billing_type})
    ids = [c.pk if isinstance(c, Customer) else int(c) for c in customers]
    with transaction.atomic():
        changing = Customer.objects.filter(pk__in=ids).exclude(billing_type=billing_type)
        changed_ids = list(changing.values_list("pk", flat=True))
        changed = Customer.objects.filter(pk__in=changed_ids).update(billing_type=billing_type)
        log_staff_action(
            user=actor,
            objects=Customer.objects.filter(pk__in=changed_ids),
            message=_("Billing type changed to %(type)s (bulk action).")
            % {"type": BillingType(billing_type).label},
        )
        return changed


def customer_rotate_portal_token(*, customer: Customer) -> Customer:
    """Issue a new portal link; the old one answers 404 from now on."""
    customer.portal_token = new_portal_token()
    customer.save(update_fields=["portal_token", "updated_at"])
    return customer
