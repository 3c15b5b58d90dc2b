"""Every text staff and subscribers may read has its Brazilian Portuguese: none is left in English.

The catalogue is extracted again from the sources (Django's ``makemessages``, in a copy of the
project so the real catalogue is left alone); a message nobody translated, or only fuzzily matched,
fails unless Django or a library already translates it (the admin's own words).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("billing", "config", "core", "customers", "gateways", "providers", "templates", "locale")
CATALOGUE = Path("locale/pt_BR/LC_MESSAGES/django.po")

MSGATTRIB = shutil.which("msgattrib") or "msgattrib"

pytestmark = pytest.mark.skipif(
    not (shutil.which("xgettext") and shutil.which("msgattrib")), reason="GNU gettext is not installed"
)


def _msgids(po_text: str) -> list[str]:
    """The msgids of a .po text (continuation lines joined), the header's empty one left out."""
    ids: list[str] = []
    current: list[str] | None = None
    for line in po_text.splitlines():
        if line.startswith("msgid "):
            current = [line[len("msgid ") :]]
        elif current is not None and line.startswith('"'):
            current.append(line)
        else:
            if current is not None:
                ids.append("".join(re.sub(r'^"|"$', "", part) for part in current))
            current = None
    if current is not None:
        ids.append("".join(re.sub(r'^"|"$', "", part) for part in current))
    return [msgid.encode().decode("unicode_escape").encode("latin-1").decode() for msgid in ids if msgid]


def _untranslated(tmp_path: Path) -> list[str]:
    copy = tmp_path / "project"
    copy.mkdir()
    shutil.copy(ROOT / "manage.py", copy)
    for name in SOURCES:
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "pt_BR", "-v", "0", "--no-obsolete"],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    missing: list[str] = []
    for option in ("--untranslated", "--only-fuzzy"):
        result = subprocess.run(  # noqa: S603 - GNU gettext's msgattrib on our own catalogue
            [MSGATTRIB, option, "--no-wrap", str(CATALOGUE)],
            cwd=copy,
            check=True,
            capture_output=True,
            text=True,
        )
        missing += _msgids(result.stdout)
    return missing


def test_every_message_has_its_brazilian_portuguese(tmp_path):
    with translation.override("pt-br"):
        english = sorted({msgid for msgid in _untranslated(tmp_path) if translation.gettext(msgid) == msgid})
    assert not english, "add these to locale/pt_BR/LC_MESSAGES/django.po:\n" + "\n".join(english)
