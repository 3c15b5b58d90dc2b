"""``GET /health/``: is this installation able to work, and are its periodic jobs running?

Answers JSON for load balancers and monitoring::

    {"database": "ok", "broker": "ok",
     "last_sweep_age_seconds": 812, "last_reconciliation_age_seconds": null}

200 when the database and the broker are both reachable, 503 otherwise. The ages come from the
``Lease`` rows the sweep and the reconciliation stamp when they finish (``null``: never ran). One
indexed query, no COUNT, and a broker probe with a short timeout keep it cheap enough to poll often.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

OK = "ok"
ERROR = "error"
BROKER_TIMEOUT_SECONDS = 1.0
#: Lease names written by the sweep and the reconciliation when they finish.
LEASES = {"sweep": "last_sweep_age_seconds", "reconciliation": "last_reconciliation_age_seconds"}


def _lease_ages() -> dict[str, int | None]:
    """One query: the seconds since each periodic job last finished (None when it never did)."""
    from billing.models import Lease

    ages: dict[str, int | None] = dict.fromkeys(LEASES.values())
    now = timezone.now()
    for name, finished_at in Lease.objects.filter(name__in=list(LEASES)).values_list(
        "name", "last_finished_at"
    ):
        if finished_at is not None:
            ages[LEASES[name]] = max(0, int((now - finished_at).total_seconds()))
    return ages


def _filesystem_broker_ok() -> bool:
    """kombu's filesystem transport needs its queue folder to exist and be writable."""
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    folder = Path(options.get("data_folder_in") or settings.VAR_DIR / "broker" / "queue")
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        return False
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".health-", suffix=".tmp"):
        return True


def _redis_broker_ok(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(
        url, socket_connect_timeout=BROKER_TIMEOUT_SECONDS, socket_timeout=BROKER_TIMEOUT_SECONDS
    )
    try:
        return bool(client.ping())
    finally:
        client.close()


def _other_broker_ok(url: str) -> bool:
    from kombu import Connection

    with Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as connection:
        connection.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    return True


def broker_ok() -> bool:
    url = settings.CELERY_BROKER_URL
    try:
        if url.startswith("filesystem://"):
            return _filesystem_broker_ok()
        if url.startswith(("redis://", "rediss://")):
            return _redis_broker_ok(url)
        return _other_broker_ok(url)
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        logger.warning("health: broker unreachable (%s)", type(exc).__name__)
        return False


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    body: dict[str, object] = {"database": OK, "broker": OK if broker_ok() else ERROR}
    try:
        body.update(_lease_ages())
    except Exception as exc:  # noqa: BLE001 - report, do not raise: this page must answer
        logger.warning("health: database unreachable (%s)", type(exc).__name__)
        body["database"] = ERROR
        body.update(dict.fromkeys(LEASES.values()))
    healthy = body["database"] == OK and body["broker"] == OK
    return JsonResponse(body, status=200 if healthy else 503)
