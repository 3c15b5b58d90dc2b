"""The collection cycle's periodic tasks (django-celery-beat rows staff can edit) and what the two
staff groups may do with its models.

- ``billing.monthly_cycle`` every day at 05:30 America/Sao_Paulo (each customer's next charge);
- ``billing.overdue_pass`` every day at 06:15 (blocks and unblocks by the overdue policy);
- ``webhooks.deliver_due`` every minute (outbound event retries and lost first attempts);
- ``radius.sync_all`` every day at 04:30 (FreeRADIUS groups rewritten; does nothing without
  RADIUS_DATABASE_URL).

Rows are found by name, so running this again, or after staff changed a schedule, changes nothing.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.utils import timezone

TIME_ZONE = "America/Sao_Paulo"
CRONTAB_TASKS = [
    ("Monthly billing cycle (daily)", "billing.monthly_cycle", {"minute": "30", "hour": "5"}),
    ("Overdue pass (daily)", "billing.overdue_pass", {"minute": "15", "hour": "6"}),
    ("FreeRADIUS groups sync (daily)", "radius.sync_all", {"minute": "30", "hour": "4"}),
]
EVERY_MINUTE_TASKS = [("Outbound event retries (every minute)", "webhooks.deliver_due")]

OPERATORS = "Billing operators"
READERS = "Billing readers"
#: (app label, model name, operators' actions); readers may view each of them.
PERMISSIONS = [
    ("billing", "billingrun", ("view", "add")),
    ("billing", "trustunblock", ("view",)),
    ("customers", "statuschange", ("view",)),
    ("webhooks", "endpoint", ("view", "add", "change")),
    ("webhooks", "event", ("view",)),
    ("webhooks", "delivery", ("view", "change")),
    ("webhooks", "deliveryattempt", ("view",)),
]


def install_tasks(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    for name, task, fields in CRONTAB_TASKS:
        if not PeriodicTask.objects.filter(name=name).exists():
            crontab, _ = CrontabSchedule.objects.get_or_create(
                day_of_week="*", day_of_month="*", month_of_year="*", timezone=TIME_ZONE, **fields
            )
            PeriodicTask.objects.create(name=name, task=task, crontab=crontab, enabled=True)
    for name, task in EVERY_MINUTE_TASKS:
        if not PeriodicTask.objects.filter(name=name).exists():
            every, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
            PeriodicTask.objects.create(name=name, task=task, interval=every, enabled=True)
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def uninstall_tasks(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    names = [row[0] for row in CRONTAB_TASKS + EVERY_MINUTE_TASKS]
    PeriodicTask.objects.filter(name__in=names).delete()


def grant(apps, schema_editor):
    using = schema_editor.connection.alias
    for label in ("billing", "customers", "webhooks"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission").objects.using(using)
    operators, _ = Group.objects.using(using).get_or_create(name=OPERATORS)
    readers, _ = Group.objects.using(using).get_or_create(name=READERS)
    for app, model, actions in PERMISSIONS:
        for action in actions:
            operators.permissions.add(Permission.get(content_type__app_label=app, codename=f"{action}_{model}"))
        readers.permissions.add(Permission.get(content_type__app_label=app, codename=f"view_{model}"))


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0008_collection_cycle"),
        ("billing", "0002_staff_groups"),
        ("customers", "0002_service_status"),
        ("webhooks", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(install_tasks, uninstall_tasks),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
