"""docs/architecture.md's state diagrams are the transition tables, drawn by a command."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from billing.management.commands import state_diagram
from billing.models import ChargeState
from billing.services import transitions


def test_the_document_matches_the_transition_tables(capsys):
    call_command("state_diagram", "--check")
    assert "matches" in capsys.readouterr().out


def test_every_allowed_move_is_drawn():
    drawn = state_diagram.diagrams()
    for from_state, targets in transitions.ALLOWED.items():
        for to_state in targets:
            assert f"    {from_state} --> {to_state}\n" in drawn
    assert "    [*] --> pending\n" in drawn and "    refunded --> [*]\n" in drawn


def test_a_changed_table_fails_the_check(monkeypatch):
    changed = {**transitions.ALLOWED, ChargeState.REFUNDED: frozenset({ChargeState.PAID})}
    monkeypatch.setattr(state_diagram, "ALLOWED", changed)
    with pytest.raises(CommandError, match="differs from the transition tables"):
        call_command("state_diagram", "--check")
