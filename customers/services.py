"""Customer-level writes that are more than a form save."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, User
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import log_staff_action
from core.errors import ApplicationError
from core.queue import enqueue
from customers.models import (
    BillingType,
    Customer,
    CustomerStatus,
    StatusCause,
    StatusChange,
    new_portal_token,
)
from webhooks.services import NewEvent, events_record

#: FreeRADIUS follows each status change (radius.tasks; named here, not imported: radius sits above).
RADIUS_SYNC_TASK = "radius.sync_customers"
RADIUS_BATCH = 1000


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


# --- service status ------------------------------------------------------------------------------
def _event_type(from_status: str, to_status: str) -> str | None:
    """``customer.blocked`` on any move into *blocked*; ``customer.unblocked`` on *blocked* → *active*."""
    if to_status == CustomerStatus.BLOCKED and from_status != CustomerStatus.BLOCKED:
        return "customer.blocked"
    if from_status == CustomerStatus.BLOCKED and to_status == CustomerStatus.ACTIVE:
        return "customer.unblocked"
    return None


def _sync_radius(customer_ids: list[int], *, forget: Sequence[str] = ()) -> None:
    """After commit, FreeRADIUS's groups follow (task by name: customers does not import radius)."""
    if not settings.RADIUS_DATABASE_URL:
        return
    for start in range(0, len(customer_ids), RADIUS_BATCH):
        enqueue(RADIUS_SYNC_TASK, customer_ids[start : start + RADIUS_BATCH], list(forget))


def customers_change_status(
    *,
    queryset: QuerySet[Customer],
    from_status: str,
    to_status: str,
    cause: str,
    reason: str,
    actor: AbstractBaseUser | None = None,
    actor_label: str = "",
) -> list[int]:
    """Move every customer of ``queryset`` still in ``from_status`` to ``to_status``; their ids.

    Inside the caller's transaction: one UPDATE (``RETURNING`` the rows it changed, so a customer
    whose status moved meanwhile is neither changed nor recorded), one INSERT of the history, the
    outbound events (customer.blocked / customer.unblocked) in the same transaction, and, after
    commit, the FreeRADIUS sync. A fixed number of queries however many customers change.
    """
    if to_status not in CustomerStatus.values or cause not in StatusCause.values:
        raise ApplicationError(_("Unknown status or cause: %(value)s") % {"value": f"{to_status}/{cause}"})
    if from_status == to_status:
        return []
    now = timezone.now()
    select_sql, select_params = queryset.order_by().values("pk").query.sql_with_params()
    table = connection.ops.quote_name(Customer._meta.db_table)
    # The table name comes from the model, the columns are fixed; every value is a parameter.
    sql = (
        f"UPDATE {table} SET status = %s, status_cause = %s, status_changed_at = %s, updated_at = %s"  # noqa: S608
        f" WHERE id IN ({select_sql}) AND status = %s RETURNING id, name, document, radius_username"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [to_status, cause, now, now, *select_params, from_status])
        changed = cursor.fetchall()
    if not changed:
        return []
    user = actor if isinstance(actor, User) and actor.is_authenticated else None
    StatusChange.objects.bulk_create(
        [
            StatusChange(
                customer_id=pk,
                at=now,
                from_status=from_status,
                to_status=to_status,
                cause=cause,
                reason=reason,
                actor=user,
                actor_label=actor_label[:80],
            )
            for pk, _name, _document, _username in changed
        ]
    )
    event_type = _event_type(from_status, to_status)
    if event_type:
        events_record(
            events=[
                NewEvent(
                    event_type,
                    {
                        "customer": {
                            "id": pk,
                            "name": name,
                            "document": document,
                            "radius_username": username,
                        },
                        "from_status": from_status,
                        "to_status": to_status,
                        "cause": cause,
                        "reason": reason,
                        "changed_at": now,
                    },
                )
                for pk, name, document, username in changed
            ]
        )
    ids = [row[0] for row in changed]
    _sync_radius(ids)
    return ids


def customer_change_status(
    *,
    customer: Customer,
    to_status: str,
    cause: str,
    reason: str = "",
    actor: AbstractBaseUser | None = None,
    actor_label: str = "",
) -> bool:
    """One customer's move (the caller holds its row lock, or accepts a lost race); True if it moved.

    The same path as :func:`customers_change_status`: history, event and RADIUS sync alike.
    """
    changed = customers_change_status(
        queryset=Customer.objects.filter(pk=customer.pk),
        from_status=customer.status,
        to_status=to_status,
        cause=cause,
        reason=reason,
        actor=actor,
        actor_label=actor_label,
    )
    if changed:
        customer.refresh_from_db(fields=["status", "status_cause", "status_changed_at", "updated_at"])
    return bool(changed)


def customer_radius_changed(*, customer: Customer, previous_username: str = "") -> None:
    """After staff edit a RADIUS username or plan group: rewrite it (and drop the old username)."""
    forget = (
        [previous_username] if previous_username and previous_username != customer.radius_username else []
    )
    _sync_radius([customer.pk], forget=forget)
