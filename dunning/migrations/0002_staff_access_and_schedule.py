"""Staff may read the reminder log, and the reminder schedule runs every morning.

- "Billing operators" and "Billing readers" get ``view_reminderlog`` (the log is read-only for
  everyone; the overdue list follows the customer and charge permissions they already have).
- ``dunning.queue_reminders`` runs every day at 09:00 America/Sao_Paulo, a django-celery-beat row
  staff can edit in the admin. Rows are found by name: running this again changes nothing staff set.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.utils import timezone

GROUPS = ("Billing operators", "Billing readers")
VIEW = [("dunning", "reminderlog")]
TIME_ZONE = "America/Sao_Paulo"
TASK_NAME = "Payment reminders (daily)"
TASK = "dunning.queue_reminders"


def grant(apps, schema_editor):
    using = schema_editor.connection.alias
    app_config = apps.get_app_config("dunning")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, using=using, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = [
        Permission.objects.using(using).get(content_type__app_label=app, codename=f"view_{model}")
        for app, model in VIEW
    ]
    for group in Group.objects.using(using).filter(name__in=GROUPS):
        group.permissions.add(*permissions)


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    if not PeriodicTask.objects.filter(name=TASK_NAME).exists():
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute="0", hour="9", day_of_week="*", day_of_month="*", month_of_year="*", timezone=TIME_ZONE
        )
        PeriodicTask.objects.create(name=TASK_NAME, task=TASK, crontab=crontab, enabled=True)
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def install(apps, schema_editor):
    grant(apps, schema_editor)
    schedule(apps, schema_editor)


def uninstall(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dunning", "0001_initial"),
        ("billing", "0003_periodic_tasks"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
