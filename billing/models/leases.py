"""Named leases in the database: the lock that keeps two sweeps from running at once.

A lease expires by itself, so a worker killed while holding it blocks nobody for long. It lives in
the database, not in a cache, so it holds across machines on PostgreSQL and across processes on
SQLite alike.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Lease(models.Model):
    name = models.CharField(_("name"), max_length=80, unique=True)
    holder = models.CharField(_("holder"), max_length=120, blank=True)
    expires_at = models.DateTimeField(_("expires at"))
    last_finished_at = models.DateTimeField(_("last finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("lease")
        verbose_name_plural = _("leases")

    def __str__(self) -> str:
        return self.name
