"""Brazilian display of money and boleto lines, independent of the active locale."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

from core.documents import digits

register = template.Library()

_CENT = Decimal("0.01")


@register.filter
def brl(value: object) -> str:
    """``Decimal("1234.5")`` → ``"R$ 1.234,50"`` (non-breaking space after the symbol)."""
    try:
        amount = Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return ""
    sign = "-" if amount < 0 else ""
    whole, cents = f"{abs(amount):.2f}".split(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"{sign}R$\u00a0{'.'.join(groups)},{cents}"


@register.filter
def linha_digitavel(value: str) -> str:
    """Group a 47-digit line as printed on the boleto: ``AAAAA.AAAAA BBBBB.BBBBBB CCCCC.CCCCCC D EEEE…``."""
    number = digits(value)
    if len(number) != 47:
        return value
    return (
        f"{number[0:5]}.{number[5:10]} {number[10:15]}.{number[15:21]} "
        f"{number[21:26]}.{number[26:32]} {number[32]} {number[33:]}"
    )


@register.filter
def only_digits(value: str) -> str:
    return digits(value)
