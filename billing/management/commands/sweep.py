"""``python manage.py sweep``: the hourly sweep, run here and now (for operators and cron users).

Same run as the Celery task ``billing.sweep`` (same lease, same rules), but every charge is handled
in this process, with a progress bar and a summary. Exit status 0 only when nothing failed.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

from billing.labels import sweep_outcome_label
from billing.services import sweep


class Command(BaseCommand):
    help = _("Issue pending charges, look up unknown ones, send requested cancels, retry notifications.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--threads", type=int, default=8, help=_("Gateway calls in parallel (default 8).")
        )
        parser.add_argument(
            "--min-age",
            type=int,
            default=None,
            metavar="SECONDS",
            help=_("Only pending/cancel-requested charges older than this (default: SWEEP_MIN_AGE_SECONDS)."),
        )
        parser.add_argument("--no-progress", action="store_true", help=_("No progress bar."))

    def handle(self, *args: Any, **options: Any) -> None:
        threads = options["threads"]
        if threads < 1:
            raise CommandError(_("--threads must be at least 1."))
        min_age = dt.timedelta(seconds=options["min_age"]) if options["min_age"] is not None else None
        total = sweep.count_work(min_age=min_age)
        with tqdm(
            total=total, unit=_("charge"), disable=options["no_progress"], file=sys.stderr, desc=_("sweep")
        ) as bar:

            def advance(done: int) -> None:
                # Charges that became due while the run went on are counted in as they come:
                # the bar never reads more done than its total.
                if bar.total is not None and bar.n + done > bar.total:
                    bar.total = bar.n + done
                bar.update(done)

            result = sweep.sweep_run(
                dispatch=sweep.inline_dispatch, min_age=min_age, threads=threads, progress=advance
            )
        if result is None:
            raise CommandError(_("Another sweep is running; nothing done."))
        self._summary(result)
        if result.problems:
            raise CommandError(
                _("%(count)d charge(s) did not get through; see the log and the charges' history.")
                % {"count": result.problems}
            )

    def _summary(self, result: sweep.SweepResult) -> None:
        rows: list[tuple[str, object]] = [
            (_("stuck in issuing, now looked up"), result.expired),
            (_("written off (unpaid past the days to write off)"), result.written_off),
            (_("pending taken"), result.handed["pending"]),
            (_("unknown taken (looked up first)"), result.handed["unknown"]),
            (_("cancel requested taken"), result.handed["cancel_requested"]),
        ]
        rows += [
            (_("outcome: %(state)s") % {"state": sweep_outcome_label(k)}, v)
            for k, v in sorted(result.outcomes.items())
        ]
        rows.append((_("charges needing staff attention"), result.needs_attention))
        rows.append((_("notifications retried"), result.notifications))
        width = max(len(label) for label, _value in rows)
        for label, value in rows:
            self.stdout.write(f"{label.ljust(width)}  {value}")
