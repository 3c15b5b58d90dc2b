"""The periodic tasks, as django-celery-beat rows staff can edit in the admin.

- ``billing.sweep`` every hour (the safety net: pending, unknown, cancel requested, notifications);
- ``billing.reconcile`` every day at 06:00 America/Sao_Paulo (the reconciliation with the gateways).

Rows are found by name, so running this again, or after staff changed a schedule, changes nothing
they set except the task name.
"""

from django.db import migrations
from django.utils import timezone

TIME_ZONE = "America/Sao_Paulo"
TASKS = [
    # (name shown in the admin, in the installation's language; task; crontab fields)
    ("Varredura de cobranças (a cada hora)", "billing.sweep", {"minute": "0", "hour": "*"}),
    ("Conciliação com os gateways (diária, 06:00)", "billing.reconcile", {"minute": "0", "hour": "6"}),
]


def install(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    for name, task, fields in TASKS:
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        crontab, _ = CrontabSchedule.objects.get_or_create(
            day_of_week="*", day_of_month="*", month_of_year="*", timezone=TIME_ZONE, **fields
        )
        PeriodicTask.objects.create(name=name, task=task, crontab=crontab, enabled=True)
    # Tell a running beat that the schedule changed (the model's signal does not fire in migrations).
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def uninstall(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, _task, _fields in TASKS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_staff_groups"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
