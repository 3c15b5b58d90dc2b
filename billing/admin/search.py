"""Changelist search for charges and gateway logs: each shape of search term takes one index.

The shapes (reference, document, gateway code, text) are told apart by :func:`customers.search.classify`.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from billing.models import Carne
from core.documents import digits
from customers.search import classify, customer_ids_matching


def search_charges(queryset: QuerySet, term: str) -> QuerySet:
    term = term.strip()
    kind = classify(term)
    if kind == "reference":
        carnes = Carne.objects.filter(reference=term.upper()).values("pk")
        return queryset.filter(Q(reference=term.upper()) | Q(carne_id__in=carnes))
    if kind == "code":
        return queryset.filter(gateway_code=digits(term))
    return queryset.filter(customer_id__in=customer_ids_matching(term))


def search_gateway_logs(queryset: QuerySet, term: str) -> QuerySet:
    term = term.strip()
    kind = classify(term)
    if kind == "reference":
        return queryset.filter(reference=term.upper())
    if kind in ("code", "document"):
        return queryset.filter(gateway_code=digits(term))
    return queryset.filter(reference=term)
