"""The notification intake: statuses ``queued`` and ``overflow``, the index the waiting cap counts
with, and the daily prune of notifications that changed nothing (docs/notifications.md).

The periodic task row is found by name, as in 0003: running this again, or after staff changed the
schedule, changes nothing they set.
"""

from django.db import migrations, models
from django.utils import timezone

TIME_ZONE = "America/Sao_Paulo"
PRUNE = ("Notifications retention (daily)", "billing.prune_notifications", {"minute": "30", "hour": "3"})


def install(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    name, task, fields = PRUNE
    if not PeriodicTask.objects.filter(name=name).exists():
        crontab, _ = CrontabSchedule.objects.get_or_create(
            day_of_week="*", day_of_month="*", month_of_year="*", timezone=TIME_ZONE, **fields
        )
        PeriodicTask.objects.create(name=name, task=task, crontab=crontab, enabled=True)
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def uninstall(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=PRUNE[0]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0005_carne_history"),
        ("providers", "0002_asaas"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AlterField(
            model_name="notification",
            name="status",
            field=models.CharField(
                choices=[
                    ("received", "Received"),
                    ("queued", "Queued for verification"),
                    ("processed", "Processed"),
                    ("invalid", "Invalid"),
                    ("rejected", "Rejected"),
                    ("retrying", "Waiting for retry"),
                    ("failed", "Failed"),
                    ("overflow", "Over the waiting cap"),
                ],
                default="received",
                max_length=12,
                verbose_name="outcome",
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("status__in", ["received", "queued", "retrying"])),
                fields=["bank_account", "gateway"],
                name="notification_waiting_idx",
            ),
        ),
        migrations.RunPython(install, uninstall),
    ]
