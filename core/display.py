"""Texts and structured data on staff pages: long texts cut in lists, a gateway's or an event's JSON
as a two-column table staff can read, the raw text one click away. Shared by every app's admin."""

from __future__ import annotations

import json
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

#: Long texts in a list cell are cut here; the whole text is on hover and on the row's page.
SHORT_TEXT_CHARS = 70


def short_text(text: str, chars: int = SHORT_TEXT_CHARS) -> str:
    if not text:
        return "-"
    if len(text) <= chars:
        return text
    return format_html('<span title="{}">{}…</span>', text, text[: chars - 1].rstrip())


def preformatted(text: str) -> str:
    return format_html('<pre class="cobranca-pre">{}</pre>', text or "-")


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        rows: list[tuple[str, str]] = []
        for key, item in value.items():
            rows += _flatten(item, f"{prefix}.{key}" if prefix else str(key))
        return rows
    if isinstance(value, list):
        if not value:
            return [(prefix, "-")]
        rows = []
        for index, item in enumerate(value, start=1):
            rows += _flatten(item, f"{prefix} [{index}]")
        return rows
    if value is None or value == "":
        return [(prefix, "-")]
    if isinstance(value, bool):
        return [(prefix, str(_("yes") if value else _("no")))]
    return [(prefix, str(value))]


def data_table(value: Any) -> str:
    """Structured data (a gateway's JSON) as a two-column table staff can read: one line per field,
    nested fields named with dots, lists numbered."""
    rows = _flatten(value)
    if not rows:
        return "-"
    return format_html(
        '<table class="cobranca-data"><tbody>{}</tbody></table>',
        format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
    )


def with_raw(readable: str, raw: str) -> str:
    """The readable form, with the text exactly as exchanged one click away (for support)."""
    return format_html(
        '{}<details class="cobranca-raw"><summary>{}</summary>{}</details>',
        readable,
        _("As received (raw text)"),
        preformatted(raw),
    )


def readable_body(text: str) -> str:
    """A logged body: a table when it is JSON, the text itself otherwise (HTML pages, plain errors)."""
    try:
        parsed = json.loads(text)
    except (TypeError, ValueError):
        return preformatted(text)
    if not isinstance(parsed, dict | list):
        return preformatted(text)
    return with_raw(data_table(parsed), text)
