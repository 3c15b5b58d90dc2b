"""The reminder schedule (*régua de cobrança*): which charge gets which step today, and sending it.

Two steps, so that 100,000 charges cost a few bulk statements and no more:

1. :func:`reminders_queue` selects, per step of the provider's schedule, the open boletos whose due
   date plus the step's offset is today (or was, within :data:`CATCH_UP_DAYS`, if a daily run was
   missed), and inserts one ``queued`` log row per charge, step and channel. The unique constraint
   on those three turns a second run, or a second worker running at the same time, into no-ops.
   Then the rows this run inserted are handed to Celery in batches.
2. :func:`reminders_send` takes one batch; each row is claimed with a conditional update
   (``queued → sending``: only one worker wins), the charge is looked at again (paid, cancelled or
   written off since? opted out since? then ``skipped``), and the message goes out through each
   channel. A row never goes back to ``queued``: at most once, never twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Charge, ChargeState
from billing.services.transitions import recorded_user
from core import queue
from core.errors import ApplicationError
from dunning import channels
from dunning.messages import facts_for, render_message
from dunning.models import Channel, Outcome, ReminderLog
from providers.models import Provider
from providers.selectors import current_provider

logger = logging.getLogger(__name__)

#: The provider's default schedule: 5 days before the due date, on it, 3 and 10 days after.
DEFAULT_STEPS = (-5, 0, 3, 10)
#: A step whose day was missed (no run that day) still goes out within this many days.
CATCH_UP_DAYS = 2
#: Log rows handed to one send task.
SEND_BATCH = 200
#: Only a boleto the subscriber can still pay is reminded of.
REMINDED_STATES = (ChargeState.ISSUED,)


@dataclass(frozen=True)
class QueueSummary:
    run: str
    queued: int
    batches: int
    per_step: dict[int, int]


def parse_steps(text: str) -> tuple[int, ...]:
    """``"-5, 0, 3, 10"`` → ``(-5, 0, 3, 10)``: sorted, without repeats. ValueError when malformed."""
    values = {int(part) for part in text.replace(";", ",").split(",") if part.strip()}
    if any(abs(value) > 120 for value in values):
        raise ValueError("a step is at most 120 days from the due date")
    return tuple(sorted(values))


def provider_steps(provider: Provider | None) -> tuple[int, ...]:
    text = provider.reminder_days if provider else ""
    try:
        return parse_steps(text) if text else DEFAULT_STEPS
    except ValueError:
        logger.warning("the provider's reminder steps %r are malformed: the default schedule is used", text)
        return DEFAULT_STEPS


def enabled_channels(provider: Provider | None) -> list[str]:
    """E-mail always; the webhook when staff configured its URL."""
    names = [Channel.EMAIL.value]
    if provider is not None and provider.reminder_webhook_url:
        names.append(Channel.WEBHOOK.value)
    return names


def step_windows(steps: Sequence[int]) -> list[tuple[int, int]]:
    """``(step, last day late)`` per step: a missed step still goes out for :data:`CATCH_UP_DAYS`
    more days, but never on or after the next step's day, and a "before" step never on the due date."""
    ordered = sorted(set(steps))
    windows = []
    for index, step in enumerate(ordered):
        last = step + CATCH_UP_DAYS
        if index + 1 < len(ordered):
            last = min(last, ordered[index + 1] - 1)
        if step < 0:
            last = min(last, -1)
        windows.append((step, last))
    return windows


def due_for_step(*, first: int, last: int, today: dt.date) -> QuerySet[Charge]:
    """Open boletos between ``first`` and ``last`` days late today (negative: days before the due date)."""
    return Charge.objects.filter(
        state__in=REMINDED_STATES,
        due_date__lte=today - dt.timedelta(days=first),
        due_date__gte=today - dt.timedelta(days=last),
        bank_account__contra_apresentacao=False,  # no due date: never late, never reminded
        customer__reminders_opt_out=False,
    )


def reminders_queue(
    *, today: dt.date, provider: Provider | None = None, enqueue: bool = True
) -> QueueSummary:
    """Queue today's reminders (step 1 above). Safe to run any number of times, concurrently too.

    With ``enqueue`` False the rows are only inserted (the caller sends them itself).
    """
    provider = provider or current_provider()
    run = uuid.uuid4().hex
    if provider is not None and not provider.reminders_enabled:
        return QueueSummary(run=run, queued=0, batches=0, per_step={})
    names = enabled_channels(provider)
    per_step: dict[int, int] = {}
    # The windows do not overlap: a charge is in at most one step today.
    for offset, last in step_windows(provider_steps(provider)):
        per_step[offset] = 0
        for name in names:
            charges = due_for_step(first=offset, last=last, today=today)
            if name == Channel.EMAIL:
                charges = charges.exclude(customer__email="")
            per_step[offset] += _insert_logs(charges, offset=offset, channel=name, run=run)
    ids = list(ReminderLog.objects.filter(run=run).order_by("pk").values_list("pk", flat=True))
    batches = [ids[i : i + SEND_BATCH] for i in range(0, len(ids), SEND_BATCH)]
    if enqueue and batches:
        _enqueue_send(batches)
    return QueueSummary(run=run, queued=len(ids), batches=len(batches), per_step=per_step)


def _insert_logs(charges: QuerySet[Charge], *, offset: int, channel: str, run: str) -> int:
    """One ``queued`` log row per charge of ``charges``, in one ``INSERT ... SELECT`` statement.

    The rows never travel through Python (100,000 of them would take a minute there). A row already
    logged for the same charge, step and channel is left alone (the unique constraint), which is
    what makes a second run, or a second worker, add nothing. Returns the rows inserted.
    """
    chosen = charges.order_by().annotate(picked_charge=F("pk"), picked_customer=F("customer_id"))
    select, params = chosen.values_list("picked_charge", "picked_customer").query.sql_with_params()
    table = connection.ops.quote_name(ReminderLog._meta.db_table)
    insert = "INSERT OR IGNORE INTO" if connection.vendor == "sqlite" else "INSERT INTO"
    on_conflict = "" if connection.vendor == "sqlite" else " ON CONFLICT DO NOTHING"
    columns = (
        "charge_id, customer_id, step_days, channel, outcome, recipient, subject, body, detail, run,"
        " created_at"
    )
    values = "picked.picked_charge, picked.picked_customer, %s, %s, %s, '', '', '', '', %s, %s"
    # Only identifiers we chose and the ORM's own SQL are interpolated; every value is a parameter.
    sql = f"{insert} {table} ({columns}) SELECT {values} FROM ({select}) AS picked{on_conflict}"  # noqa: S608
    with connection.cursor() as cursor:
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        cursor.execute(sql, [offset, channel, Outcome.QUEUED, run, now, *params])
        return max(cursor.rowcount, 0)


def _enqueue_send(batches: Sequence[Sequence[int]]) -> None:
    """One send task per batch, handed to Celery once the rows are committed."""
    for batch in batches:
        queue.enqueue(queue.SEND_REMINDERS, list(batch))


def _channel(name: str, provider: Provider | None, email_connection: Any = None) -> channels.Channel:
    if name == Channel.WEBHOOK:
        return channels.WebhookChannel(url=provider.reminder_webhook_url if provider else "")
    return channels.EmailChannel(reply_to=provider.email if provider else "", connection=email_connection)


def _skip_reason(charge: Charge) -> str:
    if charge.state not in REMINDED_STATES:
        return _("The charge is %(state)s.") % {"state": charge.get_state_display()}
    if charge.customer.reminders_opt_out:
        return _("The customer opted out of reminders.")
    return ""


def _claim(log_id: int) -> bool:
    """``queued → sending`` for exactly one caller."""
    return bool(ReminderLog.objects.filter(pk=log_id, outcome=Outcome.QUEUED).update(outcome=Outcome.SENDING))


def _finish(log: ReminderLog, delivery: channels.Delivery, message: channels.Message | None) -> None:
    log.outcome = delivery.outcome
    log.detail = delivery.detail
    if message is not None:
        log.subject = message.subject[:255]
        log.body = message.body
        log.recipient = (message.email if log.channel == Channel.EMAIL else "")[:254]
    log.sent_at = timezone.now() if delivery.outcome == channels.SENT else None
    log.save(update_fields=["outcome", "detail", "subject", "body", "recipient", "sent_at"])


def reminders_send(*, log_ids: Iterable[int], today: dt.date, email_connection: Any = None) -> dict[str, int]:
    """Send the queued reminders ``log_ids`` (step 2 above); returns a count per outcome.

    ``email_connection``: a Django mail connection to use instead of the configured one (the demo
    writes its e-mails to files).
    """
    provider = current_provider()
    counts: dict[str, int] = {}
    wanted = [log_id for log_id in log_ids if _claim(log_id)]
    logs = ReminderLog.objects.filter(pk__in=wanted).select_related(
        "charge", "charge__customer", "charge__bank_account", "charge__carne"
    )
    for log in logs:
        charge = log.charge
        reason = _skip_reason(charge)
        if reason:
            _finish(log, channels.Delivery(channels.SKIPPED, reason), None)
        else:
            message = render_message(facts_for(charge, provider=provider, today=today), offset=log.step_days)
            _finish(log, _channel(log.channel, provider, email_connection).send(message), message)
        counts[log.outcome] = counts.get(log.outcome, 0) + 1
    return counts


def reminder_send_now(*, charge: Charge, actor: AbstractBaseUser | None, today: dt.date) -> ReminderLog:
    """Staff send the boleto by e-mail now ("enviar boleto por e-mail"); the outcome is returned.

    Sent whatever the schedule or the customer's opt-out say (staff asked for it), but only for a
    boleto the subscriber can still pay and a customer with an e-mail address.
    """
    charge = Charge.objects.select_related("customer", "bank_account", "carne").get(pk=charge.pk)
    if charge.state not in REMINDED_STATES:
        raise ApplicationError(
            _("%(reference)s is %(state)s: there is no boleto to send.")
            % {"reference": charge.reference, "state": charge.get_state_display()}
        )
    if not charge.customer.email:
        raise ApplicationError(_("%(name)s has no e-mail address.") % {"name": charge.customer.name})
    provider = current_provider()
    log = ReminderLog.objects.create(
        charge=charge,
        customer=charge.customer,
        step_days=None,
        channel=Channel.EMAIL,
        outcome=Outcome.SENDING,
        actor=recorded_user(actor),
    )
    message = render_message(facts_for(charge, provider=provider, today=today), offset=None)
    _finish(log, _channel(Channel.EMAIL, provider).send(message), message)
    return log
