"""Reading the HTML page Mycontas answers with: success, error (and its reason), or unclear.

The manual shows no page, only that there are three kinds (charge screen, success screen, error
screen). So the reading is deliberately conservative: an answer is a success only with a positive
sign, an error only with one, and anything else is "unclear" (the charge may exist; the return POST
or staff settle it).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

SUCCESS, ERROR, UNCLEAR = "success", "error", "unclear"

_ERROR_WORDS = re.compile(
    r"\b(erro|error|inv[aá]lid[oa]s?|obrigat[oó]ri[oa]s?|n[aã]o foi poss[ií]vel|falha|recusad[oa])\b", re.I
)
_SUCCESS_WORDS = re.compile(
    r"(sucesso|cobran[çc]a (registrada|enviada|gerada|agendada)|boleto gerado|linha digit[aá]vel)", re.I
)
_CHARGE_URL = re.compile(r"https?://[^\s\"'<>]+/cobranca/?\?id=[A-Za-z0-9]+", re.I)
_NUMBER_INPUT = re.compile(
    r"<input[^>]*name=[\"'](?:cobrancaID|txtNumero)[\"'][^>]*value=[\"'](\d+)[\"']", re.I
)
_NUMBER_TEXT = re.compile(r"cobran[çc]a\s*(?:n[º°o.]*|n[úu]mero|#)\s*:?\s*(\d+)", re.I)


_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


@dataclass(frozen=True)
class PageReading:
    kind: str  # SUCCESS, ERROR or UNCLEAR
    message: str = ""
    charge_url: str = ""
    charge_number: str = ""


class _Text(HTMLParser):
    """Collects visible text, and separately the text of elements whose class or id says error."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.error_parts: list[str] = []
        self._skip = 0
        self._error_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "title"):
            self._skip += 1
        if tag in _VOID:
            return
        marks = " ".join(v or "" for k, v in attrs if k in ("class", "id")).lower()
        if self._error_depth or re.search(r"err|alert-danger|falha", marks):
            self._error_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title") and self._skip:
            self._skip -= 1
        if self._error_depth and tag not in _VOID:
            self._error_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._skip or not data.strip():
            return
        self.parts.append(data.strip())
        if self._error_depth:
            self.error_parts.append(data.strip())


def _visible_text(page: str) -> tuple[str, str]:
    parser = _Text()
    try:
        parser.feed(page)
        parser.close()
    except Exception:  # a broken page still has words worth showing
        return re.sub(r"<[^>]+>", " ", page), ""
    return " ".join(parser.parts), " ".join(parser.error_parts)


def read_page(page: str) -> PageReading:
    """Classify one answer page and pull out what it reveals (error reason, charge URL, number)."""
    text, error_text = _visible_text(page)
    text = re.sub(r"\s+", " ", html.unescape(text)).strip()
    url_match = _CHARGE_URL.search(page)
    number = _NUMBER_INPUT.search(page) or _NUMBER_TEXT.search(text)
    found = {
        "charge_url": html.unescape(url_match.group(0)) if url_match else "",
        "charge_number": number.group(1) if number else "",
    }
    if error_text.strip():
        return PageReading(ERROR, message=_short(error_text), **found)
    if _SUCCESS_WORDS.search(text) or found["charge_url"]:
        return PageReading(SUCCESS, message=_short(text), **found)
    if _ERROR_WORDS.search(text):
        return PageReading(ERROR, message=_short(text), **found)
    return PageReading(UNCLEAR, message=_short(text), **found)


def _short(text: str, limit: int = 500) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
