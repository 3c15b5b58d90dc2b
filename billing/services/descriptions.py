"""Description lines and their tags, as MK-Auth and the Mycontas manual define them.

``[MES]`` and ``[ANO]`` are the month and year *at emission* (the manual's words), ``[PARCELA]`` the
installment number. A carnê is sent to Juno in one request with one description for every
installment, so there ``[PARCELA]`` reads "1 a N".
"""

from __future__ import annotations

import datetime as dt

MAX_LINES = 4


def expand_description(
    text: str, *, issued_on: dt.date, installment: int | None = None, installments: int = 1
) -> tuple[str, ...]:
    if installment is not None:
        parcela = str(installment)
    elif installments > 1:
        parcela = f"1 a {installments}"
    else:
        parcela = "1"
    expanded = (
        text.replace("[MES]", f"{issued_on.month:02d}")
        .replace("[ANO]", str(issued_on.year))
        .replace("[PARCELA]", parcela)
    )
    lines = [line.strip() for line in expanded.splitlines() if line.strip()]
    return tuple(lines[:MAX_LINES]) or ("-",)
