"""The boleto's barcode as inline SVG: Interleaved 2 of 5, drawn by python-barcode.

FEBRABAN's layout for a bank boleto: 44 digits, narrow to wide ratio 1:3, 103 mm long and 13 mm
tall. With 405 modules (start, 22 digit pairs of 18 modules, stop) the narrow bar is 0.254 mm. The
quiet zones on either side are part of the drawing, so a reader finds where the code starts.
"""

from __future__ import annotations

import re

from barcode import ITF
from barcode.writer import SVGWriter
from django.utils.safestring import SafeString, mark_safe

BARCODE_DIGITS = 44
NARROW_MM = 0.254
WIDE_TO_NARROW = 3
HEIGHT_MM = 13.0
QUIET_ZONE_MM = 6.4

_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)


def itf_svg(code: str) -> SafeString:
    """An ``<svg>`` element (no XML prolog, ready to sit inside HTML) drawing ``code`` in ITF.

    ``code`` must be the 44 digits of a boleto's barcode; anything else is refused, because a
    drawing of a wrong number would be paid to nobody.
    """
    if len(code) != BARCODE_DIGITS or not code.isdigit():
        raise ValueError("a boleto barcode has 44 digits")
    symbol = ITF(code, writer=SVGWriter(), narrow=1, wide=WIDE_TO_NARROW)
    svg = symbol.render(
        {
            "module_width": NARROW_MM,
            "module_height": HEIGHT_MM,
            "quiet_zone": QUIET_ZONE_MM,
            "margin_top": 0,
            "margin_bottom": 0,
            "write_text": False,
            "background": "white",
            "foreground": "black",
            "compress": True,
        }
    ).decode("utf-8")
    svg = _PROLOG.sub("", svg, count=1)
    label = f'role="img" aria-label="{code}" class="barcode"'
    return mark_safe(svg.replace("<svg ", f"<svg {label} ", 1))  # noqa: S308 - digits only, drawn by the library
