"""An Interleaved 2 of 5 reader for the SVG the print pages draw, written from the symbology itself.

It knows nothing of the library that draws the bars: it measures each dark rectangle and each gap
between them, calls the narrowest element one module, and reads the start pattern, the digit pairs
(five bars carry one digit, the five spaces between them the next) and the stop pattern.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

#: N = narrow, W = wide; each digit has exactly two wide elements.
PATTERNS = {
    "NNWWN": "0",
    "WNNNW": "1",
    "NWNNW": "2",
    "WWNNN": "3",
    "NNWNW": "4",
    "WNWNN": "5",
    "NWWNN": "6",
    "NNNWW": "7",
    "WNNWN": "8",
    "NWNWN": "9",
}
SVG = "{http://www.w3.org/2000/svg}"


def _mm(value: str) -> float:
    return float(re.sub(r"[a-z%]+$", "", value))


def _elements(svg: str) -> list[tuple[str, float]]:
    """(``"bar"`` or ``"space"``, width) from left to right, quiet zones excluded."""
    root = ET.fromstring(svg)  # noqa: S314 - the SVG our own page drew, read in a test
    bars = sorted(
        (_mm(rect.get("x", "0")), _mm(rect.get("width", "0")))
        for rect in root.iter(f"{SVG}rect")
        if not rect.get("width", "").endswith("%") and "black" in rect.get("style", "") + rect.get("fill", "")
    )
    # Touching rectangles are one bar (a writer may draw a wide bar as several modules).
    merged: list[list[float]] = []
    for x, width in bars:
        if merged and abs(merged[-1][0] + merged[-1][1] - x) < 1e-6:
            merged[-1][1] += width
        else:
            merged.append([x, width])
    elements: list[tuple[str, float]] = []
    for index, (x, width) in enumerate(merged):
        if index:
            previous_end = merged[index - 1][0] + merged[index - 1][1]
            elements.append(("space", x - previous_end))
        elements.append(("bar", width))
    return elements


def decode(svg: str) -> str:
    """The digits an ITF symbol encodes; ValueError when the drawing is not a readable ITF code."""
    elements = _elements(svg)
    narrow = min(width for _, width in elements)
    wide = [width for _, width in elements if width > narrow * 1.5]
    if not wide:
        raise ValueError("no wide elements")
    ratio = min(wide) / narrow
    if not 2.0 <= ratio <= 3.0 + 1e-6:
        raise ValueError(f"wide to narrow ratio {ratio:.2f} is outside 2..3")
    threshold = (narrow + min(wide)) / 2
    kinds = "".join("W" if width > threshold else "N" for _, width in elements)
    if not (kinds.startswith("NNNN") and kinds.endswith("WNN")):
        raise ValueError("start or stop pattern missing")
    body = kinds[4:-3]
    if len(body) % 10:
        raise ValueError("the digit pairs do not fill the symbol")
    number = []
    for start in range(0, len(body), 10):
        pair = body[start : start + 10]
        bars, spaces = pair[0::2], pair[1::2]
        if bars not in PATTERNS or spaces not in PATTERNS:
            raise ValueError(f"unreadable pair at element {start + 4}")
        number += [PATTERNS[bars], PATTERNS[spaces]]
    return "".join(number)


def svgs_in(page: str) -> list[str]:
    """Every inline ``<svg>…</svg>`` of an HTML page, in order."""
    return re.findall(r"<svg\b.*?</svg>", page, flags=re.S)
