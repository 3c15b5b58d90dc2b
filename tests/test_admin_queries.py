"""Every changelist the admin site registers costs a fixed number of queries, however many rows.

For each registered model (ours and the libraries' alike) a builder below adds rows the way staff
meet them (with the related rows each list shows: customer, account, carnê, charges behind). The
list is counted with a few rows, then with ten times as many: the second count may not exceed the
first. A model registered in the admin without a builder here fails
``test_every_changelist_has_a_row_builder``: add one when you register a model.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import (
    ChargeState,
    GatewayLog,
    Notification,
    Payment,
    ReconciliationDifference,
    ReconciliationRun,
)
from tests import factories

pytestmark = pytest.mark.django_db

FEW = 3
MANY = 30
#: No list needs more today (session, user, count, rows, filters' choices, date range).
CAP = 10
_serial = itertools.count(1)


def _accounts() -> list:
    return [
        factories.JunoAccountFactory(),
        factories.MycontasAccountFactory(),
        factories.AsaasAccountFactory(),
    ]


def _charges(count: int) -> None:
    """Open charges (what the list opens on), some overdue, some carnê installments, on three accounts."""
    accounts = _accounts()
    for n in range(count):
        customer = factories.CustomerFactory(bank_account=accounts[n % 3])
        carne = factories.CarneFactory(customer=customer) if n % 3 == 0 else None
        factories.ChargeFactory(
            customer=customer,
            carne=carne,
            installment_number=1 if carne else None,
            state=ChargeState.ISSUED if n % 2 else ChargeState.FAILED,
            due_date=dt.date(2026, 10, 1) + dt.timedelta(days=n),
        )


def _carnes(count: int) -> None:
    accounts = _accounts()
    for n in range(count):
        carne = factories.CarneFactory(customer=factories.CustomerFactory(bank_account=accounts[n % 3]))
        factories.ChargeFactory(customer=carne.customer, carne=carne, installment_number=1)


def _customers(count: int) -> None:
    """Customers, most of them behind (an overdue charge, which the list shows) or with a charge the
    gateway refused (needs attention)."""
    accounts = _accounts()
    for n in range(count):
        customer = factories.CustomerFactory(bank_account=accounts[n % 3])
        if n % 3:
            state = ChargeState.ISSUED if n % 3 == 1 else ChargeState.FAILED
            factories.ChargeFactory(customer=customer, state=state, due_date=dt.date(2026, 9, 10))


def _payments(count: int) -> None:
    account = factories.JunoAccountFactory()
    for n in range(count):
        charge = factories.ChargeFactory(customer=factories.CustomerFactory(bank_account=account))
        Payment.objects.create(
            charge=charge,
            gateway="juno",
            gateway_payment_id=f"P{charge.pk}-{n}",
            amount=Decimal("99.90"),
            status="CONFIRMED",
        )


def _overdue(count: int) -> None:
    """Customers behind on one or two boletos, some of them reminded (the list shows the last one)."""
    from dunning.models import Outcome, ReminderLog

    accounts = _accounts()
    for n in range(count):
        customer = factories.CustomerFactory(bank_account=accounts[n % 3])
        for late in range(1 + n % 2):
            charge = factories.ChargeFactory(
                customer=customer,
                state=ChargeState.ISSUED,
                due_date=dt.date(2026, 10, 1) + dt.timedelta(days=n + 30 * late),
            )
        if n % 2:
            ReminderLog.objects.create(
                charge=charge,
                customer=customer,
                step_days=3,
                channel="email",
                outcome=Outcome.SENT,
                sent_at=timezone.now(),
            )


def _reminders(count: int) -> None:
    from dunning.models import Outcome, ReminderLog

    account = factories.JunoAccountFactory()
    for n in range(count):
        charge = factories.ChargeFactory(
            customer=factories.CustomerFactory(bank_account=account), state=ChargeState.ISSUED
        )
        ReminderLog.objects.create(
            charge=charge,
            customer=charge.customer,
            step_days=(-5, 0, 3, 10)[n % 4],
            channel="email",
            outcome=(Outcome.SENT, Outcome.FAILED, Outcome.SKIPPED)[n % 3],
        )


def _gateway_logs(count: int) -> None:
    account = factories.JunoAccountFactory()
    for _n in range(count):
        charge = factories.ChargeFactory(customer=factories.CustomerFactory(bank_account=account))
        GatewayLog.objects.create(
            bank_account=account,
            gateway="juno",
            endpoint="issue-charge",
            url="u",
            outcome="ok",
            charge=charge,
        )


def _notifications(count: int) -> None:
    account = factories.JunoAccountFactory()
    for n in range(count):
        charge = factories.ChargeFactory(customer=factories.CustomerFactory(bank_account=account))
        Notification.objects.create(
            gateway="juno",
            bank_account=account,
            path="/p",
            body=f"paymentToken=T{n}&chargeReference={charge.reference}",
            payment_token=f"T{next(_serial)}",
            charge_reference=charge.reference,
        )


def _reconciliation_runs(count: int) -> None:
    for _n in range(count):
        run = ReconciliationRun.objects.create(
            bank_account=factories.JunoAccountFactory(),
            period_start=dt.date(2026, 11, 1),
            period_end=dt.date(2026, 11, 22),
            gateway_payments=10,
            local_payments=9,
            differences=1,
        )
        ReconciliationDifference.objects.create(run=run, kind="missing_here", gateway_payment_id="PAY-9")


def _billing_runs(count: int) -> None:
    from billing.models import BillingRun

    requester = factories.UserFactory()
    for _n in range(count):
        serial = next(_serial)
        BillingRun.objects.create(
            month=dt.date(2000 + serial // 12, serial % 12 + 1, 1),
            bank_account=factories.JunoAccountFactory(),
            requested_by=requester,
            customers_total=10,
            created=8,
            amount=Decimal("799.20"),
            skipped=1,
            failed=1,
        )


def _trust_unblocks(count: int) -> None:
    from billing.models import TrustUnblock

    actor = factories.UserFactory()
    for _n in range(count):
        TrustUnblock.objects.create(
            customer=factories.CustomerFactory(),
            cycle=dt.date(2026, 11, 10),
            granted_on=dt.date(2026, 11, 20),
            last_day=dt.date(2026, 11, 25),
            actor=actor,
        )


def _webhooks(kind: str) -> Callable[[int], None]:
    def build(count: int) -> None:
        from webhooks.models import Delivery, Endpoint, Event, EventType

        for _n in range(count):
            serial = next(_serial)
            endpoint = Endpoint.objects.create(
                name=f"Sistema {serial}",
                url=f"https://radius{serial}.example.com/hooks/cobranca",
                secret="segredo-de-teste-0123456789",
                event_types=[EventType.CHARGE_PAID, EventType.CUSTOMER_BLOCKED],
            )
            if kind == "endpoint":
                continue
            event = Event.objects.create(type=EventType.CHARGE_PAID, data={"charge": serial})
            if kind == "delivery":
                Delivery.objects.create(
                    event=event, endpoint=endpoint, retry_until=timezone.now() + dt.timedelta(days=1)
                )

    return build


def _bank_accounts(count: int) -> None:
    for n in range(count):
        (factories.JunoAccountFactory, factories.MycontasAccountFactory, factories.AsaasAccountFactory)[
            n % 3
        ]()


def _providers(count: int) -> None:
    for _n in range(count):
        factories.ProviderFactory(name=f"Provedor {next(_serial)}")


def _users(count: int) -> None:
    group = Group.objects.get_or_create(name="Billing operators")[0]
    for _n in range(count):
        # An unusable password: hashing a real one per row would only slow the test.
        User.objects.create(username=f"pessoa{next(_serial)}", is_staff=True, password="!").groups.add(group)


def _groups(count: int) -> None:
    for _n in range(count):
        Group.objects.create(name=f"Grupo {next(_serial)}")


def _access_rows(model: type) -> Callable[[int], None]:
    def build(count: int) -> None:
        for _n in range(count):
            model.objects.create(
                username=f"alguem{next(_serial)}@example.com",
                ip_address="200.201.202.203",
                user_agent="Mozilla/5.0",
                path_info="/admin/login/",
                **(
                    {"failures_since_start": 3, "get_data": "", "post_data": ""}
                    if "failures_since_start" in _fields(model)
                    else {}
                ),
            )

    return build


def _fields(model: type) -> set[str]:
    return {field.name for field in model._meta.concrete_fields}  # type: ignore[attr-defined]


def _beat(kind: str) -> Callable[[int], None]:
    def build(count: int) -> None:
        from django_celery_beat.models import (
            ClockedSchedule,
            CrontabSchedule,
            IntervalSchedule,
            PeriodicTask,
            SolarSchedule,
        )

        for _n in range(count):
            serial = next(_serial)
            if kind == "clocked":
                ClockedSchedule.objects.create(clocked_time=timezone.now() + dt.timedelta(hours=serial))
            elif kind == "crontab":
                CrontabSchedule.objects.create(
                    minute=str(serial % 60), hour="*", timezone="America/Sao_Paulo"
                )
            elif kind == "interval":
                IntervalSchedule.objects.create(every=serial, period=IntervalSchedule.MINUTES)
            elif kind == "solar":
                SolarSchedule.objects.create(
                    event="sunrise", latitude=Decimal("-23.55"), longitude=serial % 180
                )
            else:
                interval = IntervalSchedule.objects.create(every=serial, period=IntervalSchedule.HOURS)
                crontab = CrontabSchedule.objects.create(minute="0", hour=str(serial % 24))
                PeriodicTask.objects.create(
                    name=f"Tarefa {serial}",
                    task="billing.sweep",
                    **({"interval": interval} if serial % 2 else {"crontab": crontab}),
                )

    return build


def _builders() -> dict[str, Callable[[int], None]]:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    return {
        "auth.group": _groups,
        "auth.user": _users,
        "axes.accessattempt": _access_rows(AccessAttempt),
        "axes.accessfailurelog": _access_rows(AccessFailureLog),
        "axes.accesslog": _access_rows(AccessLog),
        "billing.billingrun": _billing_runs,
        "billing.carne": _carnes,
        "billing.charge": _charges,
        "billing.gatewaylog": _gateway_logs,
        "billing.notification": _notifications,
        "billing.payment": _payments,
        "billing.reconciliationrun": _reconciliation_runs,
        "billing.trustunblock": _trust_unblocks,
        "customers.customer": _customers,
        "django_celery_beat.clockedschedule": _beat("clocked"),
        "dunning.overduecustomer": _overdue,
        "dunning.reminderlog": _reminders,
        "django_celery_beat.crontabschedule": _beat("crontab"),
        "django_celery_beat.intervalschedule": _beat("interval"),
        "django_celery_beat.periodictask": _beat("task"),
        "django_celery_beat.solarschedule": _beat("solar"),
        "providers.bankaccount": _bank_accounts,
        "providers.provider": _providers,
        "webhooks.delivery": _webhooks("delivery"),
        "webhooks.endpoint": _webhooks("endpoint"),
        "webhooks.event": _webhooks("event"),
    }


#: Besides the list as it opens, the views staff use most, counted the same way.
FILTERED = {
    "billing.charge": ["situacao=todas", "atraso=vencidas", "attention=yes"],
    "customers.customer": ["atraso=vencidas", "attention=yes"],
    "dunning.overduecustomer": ["days_late=31-60", "o=4"],
}


def _registered() -> list[str]:
    return sorted(model._meta.label_lower for model in admin.site._registry)


def _views() -> list[tuple[str, str]]:
    return [(label, query) for label in _registered() for query in ["", *FILTERED.get(label, [])]]


def test_every_changelist_has_a_row_builder():
    missing = sorted(set(_registered()) - set(_builders()))
    assert not missing, f"add a row builder in tests/test_admin_queries.py for: {', '.join(missing)}"


@pytest.fixture
def chief(client):
    user = factories.UserFactory(username="chefe", is_superuser=True)
    client.force_login(user)
    return user


@pytest.mark.parametrize(("label", "query"), _views())
def test_changelist_queries_do_not_grow_with_its_rows(client, chief, label, query, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC), tick=False)
    build = _builders()[label]
    app_label, model_name = label.split(".")
    url = reverse(f"admin:{app_label}_{model_name}_changelist") + (f"?{query}" if query else "")
    build(FEW)
    assert client.get(url).status_code == 200  # warms the session and content-type caches
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    assert response.status_code == 200
    shown = len(response.context["cl"].result_list)
    build(MANY - FEW)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.context["cl"].result_list) > shown, f"{url}: the builder's rows are not listed"
    assert len(few.captured_queries) <= CAP, f"{url}: {len(few.captured_queries)} queries (cap {CAP})"
    assert len(many.captured_queries) <= len(few.captured_queries), (
        f"{url}: {len(few.captured_queries)} queries with {shown} rows, {len(many.captured_queries)} with "
        f"{len(response.context['cl'].result_list)}:\n" + "\n".join(q["sql"] for q in many.captured_queries)
    )
