"""A charge's description: what each gateway prints, its limits, and the tags ``[MES]``, ``[ANO]``,
``[PARCELA]``.

The rules come from the gateway's adapter (:class:`gateways.base.DescriptionRules`, read through
:func:`gateways.registry.description_rules`): Juno prints up to 4 lines and 400 characters, and
billing replaces the tags before sending; Mycontas prints 5 lines of 80 characters and replaces the
tags itself on each boleto, so they are sent as written. Where one description serves every
installment of a carnê (Juno, Asaas), a tag would print the same value on each boleto, true of one
at most, so a carnê's description there may not use them.

When billing replaces them, ``[MES]`` and ``[ANO]`` are the month and year of the boleto's due date
and ``[PARCELA]`` its installment number (1 for a título). A description that does not fit is
refused when the charge is created, with every reason at once; nothing is ever cut.
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils.translation import gettext as _

from gateways.base import DESCRIPTION_TAGS, TAGS_UNTOUCHED, DescriptionRules
from gateways.registry import description_rules

#: The widest each tag can print when billing replaces it: "12", "2026", "24".
TAG_WIDTHS = {"[MES]": 2, "[ANO]": 4, "[PARCELA]": 2}
_TAG = re.compile("|".join(re.escape(tag) for tag in DESCRIPTION_TAGS))


def rules_for(gateway: str) -> DescriptionRules:
    return description_rules(gateway)


def _lines(text: str) -> list[str]:
    """The printed lines: trailing spaces and blank lines are not printed by any gateway."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _widest(line: str, rules: DescriptionRules) -> int:
    """The longest a line can print: tags at their widest when billing replaces them, as written
    when the gateway does (its limit applies to what it receives)."""
    if rules.tags == TAGS_UNTOUCHED:
        return len(line)
    return len(_TAG.sub(lambda m: "x" * TAG_WIDTHS[m.group(0)], line))


def description_problems(text: str, *, gateway: str, gateway_label: str, installments: int = 1) -> list[str]:
    """Why ``text`` cannot be printed by ``gateway`` (empty when it can), every reason at once."""
    rules = rules_for(gateway)
    lines = _lines(text)
    if not lines:
        return [_("The description is empty: the boleto needs at least one line.")]
    problems = []
    names = {"gateway": gateway_label}
    if rules.max_lines is not None and len(lines) > rules.max_lines:
        problems.append(
            _("The description has %(count)d lines; %(gateway)s prints at most %(max)d.")
            % {**names, "count": len(lines), "max": rules.max_lines}
        )
    if rules.max_line_chars is not None:
        for number, line in enumerate(lines, start=1):
            width = _widest(line, rules)
            if width > rules.max_line_chars:
                problems.append(
                    _("Line %(line)d has %(count)d characters; %(gateway)s prints at most %(max)d per line.")
                    % {**names, "line": number, "count": width, "max": rules.max_line_chars}
                )
    total = sum(_widest(line, rules) for line in lines) + len(lines) - 1
    if rules.max_chars is not None and total > rules.max_chars:
        problems.append(
            _("The description has %(count)d characters; %(gateway)s prints at most %(max)d.")
            % {**names, "count": total, "max": rules.max_chars}
        )
    if installments > 1 and not rules.carne_tags and _TAG.search(text):
        problems.append(
            _(
                "%(gateway)s prints one description on every installment of a carnê, so [MES], [ANO] "
                "and [PARCELA] would show the same value on each boleto. Remove them: each boleto "
                "shows its own due date."
            )
            % names
        )
    return problems


def replace_tags(text: str, *, due_date: dt.date, installment: int) -> str:
    """``[MES]``/``[ANO]``: the due date's month and year; ``[PARCELA]``: the installment number."""
    values = {"[MES]": f"{due_date.month:02d}", "[ANO]": str(due_date.year), "[PARCELA]": str(installment)}
    return _TAG.sub(lambda m: values[m.group(0)], text)


def lines_to_send(text: str, *, gateway: str, due_date: dt.date, installment: int = 1) -> tuple[str, ...]:
    """What the gateway receives: tags replaced by billing, or left for the gateway, as it prints."""
    rules = rules_for(gateway)
    if rules.tags != TAGS_UNTOUCHED:
        text = replace_tags(text, due_date=due_date, installment=installment)
    return tuple(_lines(text)) or ("-",)


def printed_lines(
    text: str, *, gateway: str, due_date: dt.date, installment: int, issued_on: dt.date
) -> tuple[str, ...]:
    """What the boleto shows, for the portal: where the gateway replaces the tags (Mycontas),
    ``[MES]`` and ``[ANO]`` are the month and year it issued the boleto (the manual's words)."""
    if rules_for(gateway).tags == TAGS_UNTOUCHED:
        values = {
            "[MES]": f"{issued_on.month:02d}",
            "[ANO]": str(issued_on.year),
            "[PARCELA]": str(installment),
        }
        return tuple(_lines(_TAG.sub(lambda m: values[m.group(0)], text)))
    return tuple(_lines(replace_tags(text, due_date=due_date, installment=installment)))


def default_carne_description(*, gateway: str, first_month: dt.date, last_month: dt.date) -> str:
    """The billing run's carnê text: its installment number where each boleto can print its own,
    else the months the carnê covers (true on every installment)."""
    if rules_for(gateway).carne_tags:
        return _("Monthly fee, installment [PARCELA]")
    return _("Monthly fee, carnê %(first)s to %(last)s") % {
        "first": first_month.strftime("%m/%Y"),
        "last": last_month.strftime("%m/%Y"),
    }


def _limits_text(rules: DescriptionRules) -> str:
    if rules.max_lines and rules.max_line_chars:
        return _("Up to %(lines)d lines of %(chars)d characters.") % {
            "lines": rules.max_lines,
            "chars": rules.max_line_chars,
        }
    if rules.max_lines and rules.max_chars:
        return _("Up to %(lines)d lines, %(chars)d characters in all.") % {
            "lines": rules.max_lines,
            "chars": rules.max_chars,
        }
    if rules.max_chars:
        return _("Up to %(chars)d characters.") % {"chars": rules.max_chars}
    return ""


def description_help(*, gateway: str, gateway_label: str, carne: bool) -> str:
    """The issue forms' help text: exactly what the tags become on this gateway, and its limits."""
    rules = rules_for(gateway)
    if rules.tags == TAGS_UNTOUCHED:
        tags = _(
            "%(gateway)s replaces [MES] and [ANO] with the month and year it issues each boleto, and "
            "[PARCELA] with the installment's number."
        ) % {"gateway": gateway_label}
    elif carne and not rules.carne_tags:
        tags = _(
            "%(gateway)s prints this one description on every installment, so [MES], [ANO] and "
            "[PARCELA] cannot be used: each boleto shows its own due date."
        ) % {"gateway": gateway_label}
    else:
        tags = _(
            "[MES] and [ANO] become the month and year of each boleto's due date, [PARCELA] its "
            "installment number (1 for a single charge)."
        )
    return f"{tags} {_limits_text(rules)}".strip()


def initial_description(*, gateway: str, carne: bool) -> str:
    """What the issue forms offer to start with: true on every boleto of this gateway."""
    if carne and not rules_for(gateway).carne_tags:
        return "Internet"
    return "Internet [MES]/[ANO] - parcela [PARCELA]" if carne else "Internet [MES]/[ANO]"
