""" "Needs attention": one definition, the same answer in the admin's filter, the dashboard and the sweep."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Charge, ChargeState
from billing.selectors.attention import ISSUING_STALE_AFTER, charges_needing_attention
from billing.selectors.dashboard import billing_dashboard
from billing.services import sweep
from tests import factories

S = ChargeState
pytestmark = pytest.mark.django_db


def charge(customer, state, *, age):
    made = factories.ChargeFactory(customer=customer, state=state)
    Charge.objects.filter(pk=made.pk).update(state_changed_at=timezone.now() - age)
    return made


@pytest.fixture
def charges(settings):
    settings.MYCONTAS_UNKNOWN_ATTENTION_MINUTES = 60
    juno = factories.CustomerFactory(bank_account=factories.JunoAccountFactory())
    mycontas = factories.CustomerFactory(bank_account=factories.MycontasAccountFactory())
    minute = dt.timedelta(minutes=1)
    flagged = {
        "failed": charge(juno, S.FAILED, age=minute),
        "stale issuing": charge(juno, S.ISSUING, age=ISSUING_STALE_AFTER + minute),
        "unknown at a gateway with a look-up": charge(juno, S.UNKNOWN, age=minute),
        "Mycontas unknown past the wait": charge(mycontas, S.UNKNOWN, age=61 * minute),
    }
    left = {
        "fresh issuing": charge(juno, S.ISSUING, age=minute),
        "Mycontas unknown waiting for its return POST": charge(mycontas, S.UNKNOWN, age=5 * minute),
        "issued": charge(juno, S.ISSUED, age=dt.timedelta(days=3)),
        "pending": charge(mycontas, S.PENDING, age=dt.timedelta(days=3)),
    }
    return flagged, left


def test_the_selector_flags_what_no_process_will_move_on(charges):
    flagged, _left = charges
    assert set(charges_needing_attention().values_list("pk", flat=True)) == {c.pk for c in flagged.values()}


def test_admin_filter_dashboard_and_sweep_agree(charges, client):
    flagged, _left = charges
    client.force_login(factories.UserFactory(is_staff=True, is_superuser=True))
    response = client.get(reverse("admin:billing_charge_changelist"), {"attention": "yes"})
    listed = {c.pk for c in response.context["cl"].result_list}
    on_dashboard = sum(summary.attention for summary in billing_dashboard().accounts)
    counted_by_sweep = sweep.needs_attention_count()
    assert listed == {c.pk for c in flagged.values()}
    assert on_dashboard == counted_by_sweep == len(flagged)
