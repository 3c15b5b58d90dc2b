"""Keeping FreeRADIUS's ``radusergroup`` in step with each customer's service status.

A customer with a RADIUS username belongs to their plan's group while *active* (the customer's own
group, else the provider's default plan group; neither: no group, FreeRADIUS's defaults) and to the
provider's blocked group in any other status (blocked, suspended, inactive). What is written is the
customer's current status, not the change that triggered the sync, so syncs that arrive out of
order, twice or late still leave the right group. Off when ``RADIUS_DATABASE_URL`` is empty.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from django.conf import settings

from customers.models import Customer, CustomerStatus
from providers.models import Provider
from providers.selectors import provider_settings
from radius import store

logger = logging.getLogger(__name__)

SYNC_TASK = "radius.sync_customers"
#: Customers per task and per transaction in the RADIUS database.
BATCH = 1000


def enabled() -> bool:
    return bool(settings.RADIUS_DATABASE_URL)


def group_for(*, status: str, plan_group: str, provider: Provider) -> str:
    """The group a username belongs to in ``status`` ('' = none)."""
    if status == CustomerStatus.ACTIVE:
        return plan_group or provider.radius_default_group
    return provider.radius_blocked_group


def assignments(customer_ids: Sequence[int], *, provider: Provider) -> list[store.Assignment]:
    rows = (
        Customer.objects.filter(pk__in=customer_ids)
        .exclude(radius_username="")
        .values_list("radius_username", "status", "radius_group")
    )
    return [
        store.Assignment(username, group_for(status=status, plan_group=plan, provider=provider))
        for username, status, plan in rows
    ]


def radius_sync_customers(*, customer_ids: Sequence[int], forget: Iterable[str] = ()) -> int:
    """Write the customers' groups (and drop the rows of usernames no longer used); rows written."""
    if not enabled():
        return 0
    provider = provider_settings()
    wanted = assignments(customer_ids, provider=provider)
    kept = {a.username for a in wanted}
    wanted += [store.Assignment(name, "") for name in forget if name and name not in kept]
    with store.connect(settings.RADIUS_DATABASE_URL) as conn:
        return store.assign(conn, wanted)


def radius_sync_all() -> int:
    """Every customer with a username, in batches: the daily safety net and the first load."""
    if not enabled():
        return 0
    ids = list(Customer.objects.exclude(radius_username="").order_by("pk").values_list("pk", flat=True))
    written = 0
    for start in range(0, len(ids), BATCH):
        written += radius_sync_customers(customer_ids=ids[start : start + BATCH])
    return written
