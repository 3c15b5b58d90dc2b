"""core.dates.today: the calendar day in São Paulo, the same as Django's localdate."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.conf import settings
from django.utils import timezone

from core.dates import SAO_PAULO, today


def test_late_evening_in_brazil_is_still_today_there():
    # 23:30 in São Paulo is 02:30 UTC the next day.
    with time_machine.travel(dt.datetime(2026, 12, 31, 2, 30, tzinfo=dt.UTC), tick=False):
        assert today() == dt.date(2026, 12, 30)
        assert today() == timezone.localdate()


def test_the_project_time_zone_is_sao_paulo():
    assert str(SAO_PAULO) == settings.TIME_ZONE == "America/Sao_Paulo"
