"""Form fields the admin's forms share across apps."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.documents import format_phone


class PhoneField(forms.CharField):
    """A phone typed any way (11987654321, +55 11 98765-4321) kept as (11) 98765-4321, so every
    list, export and reminder shows it alike; a number it does not recognise is kept as typed."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 25)
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _("With the area code: (11) 98765-4321."))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return format_phone(value) if isinstance(value, str) else value

    def to_python(self, value: Any) -> str:
        return format_phone(super().to_python(value) or "")
