"""The portal's PIX QR code is drawn here from the payload, as inline SVG."""

from __future__ import annotations

import segno
from django.template import Context, Template

PAYLOAD = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR"
    "5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)


def render(payload: str, title: str = "PIX") -> str:
    return Template("{% load pix %}{% pix_qr payload title %}").render(
        Context({"payload": payload, "title": title})
    )


def test_the_payload_becomes_an_inline_svg_of_its_own_qr_code():
    svg = render(PAYLOAD)
    assert svg.startswith('<svg viewBox="0 0 57 57" class="pix-qr">')  # version 8 + quiet zone, scalable
    expected = segno.make(PAYLOAD, error="m", micro=False, boost_error=False)
    assert svg == expected.svg_inline(
        scale=1,
        border=4,
        omitsize=True,
        dark="#000",
        light="#fff",
        title="PIX",
        svgclass="pix-qr",
        lineclass=None,
    )
    assert "http" not in svg.split("</title>", 1)[1]  # nothing fetched from anywhere


def test_the_title_is_escaped():
    assert "<b>" not in render(PAYLOAD, "<b>PIX</b>")


def test_no_payload_or_one_too_long_draws_nothing():
    assert render("") == ""
    assert render("x" * 5000) == ""
