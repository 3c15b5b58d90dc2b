"""The PIX QR code drawn here, from the "copia e cola" payload, as inline SVG.

No image service ever sees a payer's payload, and no image is stored: the code is drawn again
from the text at each page view (segno, pure Python, a few milliseconds).
"""

from __future__ import annotations

import segno
from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def pix_qr(payload: str, title: str = "") -> SafeString | str:
    """``payload`` as a QR code (error correction M, a 4-module quiet zone), scaled by its box.

    Empty when there is no payload or it cannot be drawn (longer than a QR code holds).
    """
    if not payload:
        return ""
    try:
        code = segno.make(payload, error="m", micro=False, boost_error=False)
    except (ValueError, segno.DataOverflowError):
        return ""
    svg = code.svg_inline(
        scale=1,
        border=4,
        omitsize=True,
        dark="#000",
        light="#fff",
        title=title or None,  # segno escapes it
        svgclass="pix-qr",
        lineclass=None,
    )
    return mark_safe(svg)  # noqa: S308 - segno's own markup, its only text (the title) escaped by segno
