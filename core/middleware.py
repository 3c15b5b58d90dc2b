"""Request-wide answers shared by every page."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from core import queue


class QueueDeliveryMiddleware:
    """Tells staff when work they committed could not be handed to the workers.

    After a commit a broker that cannot be reached is not an error (core.queue: the sweep sends the
    work later); a page that does not say so itself (inside its own
    :func:`~core.queue.delivery_report`) gets one warning here, so nobody repeats an action they
    think failed. Requests without messages (the API, the portal) are answered as their views decide.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with queue.delivery_report() as undelivered:
            response = self.get_response(request)
        if undelivered and hasattr(request, "_messages"):
            messages.warning(
                request,
                _(
                    "Saved. The task queue cannot be reached right now, so the gateway has not been "
                    "asked yet: it is done automatically once the queue is back."
                ),
            )
        return response
