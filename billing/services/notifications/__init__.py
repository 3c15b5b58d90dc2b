"""Inbound gateway notifications: stored raw first, then verified, then applied once.

- :mod:`.inbox`: what the endpoints call; stores every request before anything else.
- :mod:`.processing`: the one processing path (intake, retry task, sweep, admin's reprocess) and the
  table of gateways that plug into it.
- :mod:`.juno`: Juno's verification (``fetch-payment-details``, the charge match, the payment).
- :mod:`.mycontas`: Mycontas' return POST (credentials, the charge it names).
- :mod:`.confirmed`: the payment a gateway confirms, applied to the charge it names.
- :mod:`.outcome`: how a notification ends.

The names below are the package's public interface.
"""

from billing.services.notifications.inbox import InboundRequest, notification_receive
from billing.services.notifications.outcome import NotificationResult, Outcome
from billing.services.notifications.processing import notification_process, notifications_retry_pending

__all__ = [
    "InboundRequest",
    "NotificationResult",
    "Outcome",
    "notification_process",
    "notification_receive",
    "notifications_retry_pending",
]
