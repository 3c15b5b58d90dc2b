"""Dates in Brazil: due dates and payment dates are calendar days in America/Sao_Paulo.

Pure Python with no Django import (the gateways' simulators run as plain processes too); the
project's ``TIME_ZONE`` is the same zone, so this agrees with Django's ``timezone.localdate()``.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def today() -> dt.date:
    """Today in São Paulo, not in UTC: after 21:00 in Brazil, UTC is already tomorrow."""
    return dt.datetime.now(SAO_PAULO).date()
