"""``python manage.py billing_run --month 2026-12 [--account ID] [--dry-run] [--sync]``.

Creates the month's charges for every active customer (see billing.services.billing_run), then
queues their issue tasks (or, with ``--sync``, issues them here). Prints a summary per bank account;
exit status 0 only when nothing failed. ``--dry-run`` counts what would be created and writes nothing.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

from billing.services import billing_run
from providers.models import BankAccount


class Command(BaseCommand):
    help = _("Create (and queue for issuing) one charge per active customer for a month.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", required=True, help=_("The month to bill, YYYY-MM."))
        parser.add_argument("--account", type=int, default=None, help=_("Only this bank account (id)."))
        parser.add_argument(
            "--dry-run", action="store_true", help=_("Report what would be created; write nothing.")
        )
        parser.add_argument(
            "--sync", action="store_true", help=_("Issue the charges here instead of queueing.")
        )
        parser.add_argument("--threads", type=int, default=8, help=_("Parallel gateway calls with --sync."))
        parser.add_argument("--no-progress", action="store_true", help=_("No progress bar."))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            month = billing_run.parse_month(options["month"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        account_id = options["account"]
        if account_id is not None and not BankAccount.objects.filter(pk=account_id).exists():
            raise CommandError(_("No bank account with id %(id)s.") % {"id": account_id})
        if options["threads"] < 1:
            raise CommandError(_("--threads must be at least 1."))
        quiet = options["no_progress"]

        started = time.monotonic()
        total = billing_run.count_customers(account_id=account_id)
        with tqdm(total=total, unit="customer", desc="generate", disable=quiet, file=sys.stderr) as bar:
            result = billing_run.billing_run_generate(
                month=month, account_id=account_id, dry_run=options["dry_run"], progress=bar.update
            )
        generated_in = time.monotonic() - started
        desc = "issue" if options["sync"] else "queue"
        with tqdm(total=len(result.to_issue), unit="task", desc=desc, disable=quiet, file=sys.stderr) as bar:
            billing_run.billing_run_dispatch(
                result, sync=options["sync"], threads=options["threads"], progress=bar.update
            )
        self._summary(result, sync=options["sync"], generated_in=generated_in)
        failed = result.total("failed")
        if failed:
            raise CommandError(_("%(count)d failed; see the messages above.") % {"count": failed})

    def _summary(self, result: billing_run.BillingRunResult, *, sync: bool, generated_in: float) -> None:
        title = _("Billing run %(month)s") % {"month": result.month.strftime("%Y-%m")}
        if result.dry_run:
            title += " " + _("(dry run: nothing written)")
        self.stdout.write(title)
        third = _("issued") if sync else _("queued")
        header = (_("account"), _("created"), _("skipped"), third, _("failed"))
        rows = [
            (
                result.account_names.get(pk, f"#{pk}"),
                tally.created,
                tally.skipped,
                tally.queued,
                tally.failed,
            )
            for pk, tally in sorted(result.by_account.items())
        ]
        rows.append(
            (
                _("total"),
                result.total("created"),
                result.total("skipped"),
                result.total("queued"),
                result.total("failed"),
            )
        )
        width = max(len(str(r[0])) for r in [header, *rows])
        for row in [header, *rows]:
            self.stdout.write(f"{str(row[0]).ljust(width)}  " + "  ".join(f"{str(v):>9}" for v in row[1:]))
        for reason, count in sorted(result.reasons.items()):
            self.stdout.write(_("skipped, %(reason)s: %(count)d") % {"reason": _(reason), "count": count})
        created = result.total("created")
        if created and generated_in > 0:
            self.stdout.write(
                _("generated %(count)d charges in %(seconds).1f s (%(rate).0f/s)")
                % {"count": created, "seconds": generated_in, "rate": created / generated_in}
            )
        for error in result.errors[:50]:
            self.stderr.write(error)
