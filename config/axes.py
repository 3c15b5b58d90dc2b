"""Login lockouts (django-axes): per username at an address, and per address whatever the usernames.

``AXES_LOCKOUT_PARAMETERS`` counts failures two ways: ``["username", "ip_address"]`` (one person
mistyping, or one account guessed) and ``"ip_address"`` (one address trying many usernames:
password spraying). axes has one failure limit for both; :class:`UsernameAndAddressHandler` gives
the address alone a limit of its own, ``AXES_ADDRESS_FAILURE_LIMIT`` (by default four times
``AXES_FAILURE_LIMIT``: an office behind one address is not locked by a few colleagues' typos), and
makes a successful login forgive only that user's failures at that address, so one valid account
cannot wipe a spraying address's record.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit, get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


class UsernameAndAddressHandler(AxesDatabaseHandler):
    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """The failures that count against the lockout, on the scale of ``AXES_FAILURE_LIMIT``.

        axes locks when this reaches ``AXES_FAILURE_LIMIT``; an address's own count is scaled so
        that it reaches it exactly when the address made ``AXES_ADDRESS_FAILURE_LIMIT`` failures.
        """
        limit = get_failure_limit(request, credentials)
        address_limit = max(1, int(settings.AXES_ADDRESS_FAILURE_LIMIT))
        counted = 0
        parameters = get_lockout_parameters(request, credentials)
        for parameter, attempts in zip(parameters, self.get_user_attempts(request, credentials), strict=True):
            failures = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            if parameter == "ip_address":
                failures = failures * limit // address_limit
            counted = max(counted, failures)
        return counted

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """After a successful login: forget this username's failures at this address only."""
        username = get_client_username(request, credentials)
        address: Any = getattr(request, "axes_ip_address", None)
        count, _ = AccessAttempt.objects.filter(username=username, ip_address=address).delete()
        return count
