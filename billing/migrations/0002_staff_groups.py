"""Two staff groups: "Billing operators" (day-to-day work) and "Billing readers" (look only).

Permissions are normally created after migrations finish (post_migrate), so on a fresh database
they do not exist yet here: ``create_permissions`` makes them first (the usual Django recipe).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

OPERATORS = "Billing operators"
READERS = "Billing readers"

#: (app label, model name): operators may view, add and change these.
OPERATOR_EDITS = [
    ("customers", "customer"),
    ("billing", "charge"),
    ("billing", "carne"),
    ("providers", "bankaccount"),
    ("providers", "provider"),
]
#: Operators may only look at these.
VIEW_ONLY = [
    ("billing", "payment"),
    ("billing", "gatewaylog"),
    ("billing", "notification"),
    ("billing", "chargeevent"),
    ("billing", "reconciliationrun"),
    ("billing", "reconciliationdifference"),
    ("django_celery_beat", "periodictask"),
    ("django_celery_beat", "intervalschedule"),
    ("django_celery_beat", "crontabschedule"),
    ("django_celery_beat", "solarschedule"),
    ("django_celery_beat", "clockedschedule"),
]


def _ensure_permissions(apps, using):
    for label in ("providers", "customers", "billing", "django_celery_beat"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
        app_config.models_module = None


def _permissions(apps, using, models, actions):
    Permission = apps.get_model("auth", "Permission")
    wanted = [(app, f"{action}_{model}") for app, model in models for action in actions]
    found = []
    for app, codename in wanted:
        found.append(
            Permission.objects.using(using).get(content_type__app_label=app, codename=codename)
        )
    return found


def create_groups(apps, schema_editor):
    using = schema_editor.connection.alias
    _ensure_permissions(apps, using)
    Group = apps.get_model("auth", "Group")
    operators, _ = Group.objects.using(using).get_or_create(name=OPERATORS)
    operators.permissions.add(
        *_permissions(apps, using, OPERATOR_EDITS, ("view", "add", "change")),
        *_permissions(apps, using, VIEW_ONLY, ("view",)),
    )
    readers, _ = Group.objects.using(using).get_or_create(name=READERS)
    readers.permissions.add(*_permissions(apps, using, OPERATOR_EDITS + VIEW_ONLY, ("view",)))


def remove_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=[OPERATORS, READERS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
        ("customers", "0001_initial"),
        ("providers", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
