"""Changelist search that uses an index whatever the table size.

Django's admin ORs an ``icontains`` over every search field, which reads the whole table. Staff
search for one kind of thing at a time, and the shape of what they type says which: a reference
(``T-…``, ``C-…``), a CPF or CNPJ (11 or 14 digits, punctuation allowed), a gateway code (other
digits), or a name. Each shape goes to the one indexed lookup that answers it.
"""

from __future__ import annotations

import re

from django.db.models import QuerySet

from core.documents import digits
from customers.models import Customer

_REFERENCE = re.compile(r"^[A-Za-z]{1,3}-[0-9A-Za-z-]+$")
_DOCUMENT_TEXT = re.compile(r"^[\d.\-/\s]+$")


def classify(term: str) -> str:
    """One of ``reference``, ``document``, ``code`` or ``text``."""
    term = term.strip()
    if _REFERENCE.match(term):
        return "reference"
    if _DOCUMENT_TEXT.match(term):
        return "document" if len(digits(term)) in (11, 14) else "code"
    return "text"


def customer_ids_matching(term: str) -> QuerySet:
    """Customers whose name contains the term, or whose document is the term."""
    kind = classify(term)
    if kind == "document":
        return Customer.objects.filter(document=digits(term)).values("pk")
    return Customer.objects.filter(name__icontains=term.strip()).values("pk")


def search_customers(queryset: QuerySet, term: str) -> QuerySet:
    term = term.strip()
    kind = classify(term)
    if kind == "document":
        return queryset.filter(document=digits(term))
    if kind == "code":
        return queryset.filter(document__startswith=digits(term))
    if "@" in term:
        return queryset.filter(email__iexact=term)
    return queryset.filter(name__icontains=term)
