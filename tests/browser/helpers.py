"""Shared steps for the browser tests.

Pages are checked through the words users read, in the language they read them: ``pt()`` gives the
Brazilian Portuguese of an English msgid (itself while the catalogue is not compiled), so the tests
keep passing once the pt_BR catalogue lands.
"""

from __future__ import annotations

from importlib import import_module

from django.utils import translation

from tests.factories import UserFactory

PASSWORD = "s3cret-pass!"  # UserFactory's


def pt(msgid: str, **values: object) -> str:
    with translation.override("pt-br"):
        text = translation.gettext(msgid)
    return text % values if values else text


def ensure_staff_groups() -> None:
    """The groups migration 0004 creates, rebuilt from its own lists.

    Transactional tests empty the database after each test, and serialized rollback cannot bring the
    rows back here: once Playwright runs its event loop in this thread, Django hands the test body
    another connection object, without the serialized copy.
    """
    from django.contrib.auth.models import Group, Permission

    groups = import_module("billing.migrations.0002_staff_groups")

    def permissions(models: list[tuple[str, str]], actions: tuple[str, ...]) -> list[Permission]:
        return [
            Permission.objects.get(content_type__app_label=app, codename=f"{action}_{model}")
            for app, model in models
            for action in actions
        ]

    operators, _ = Group.objects.get_or_create(name=groups.OPERATORS)
    operators.permissions.add(
        *permissions(groups.OPERATOR_EDITS, ("view", "add", "change")),
        *permissions(groups.VIEW_ONLY, ("view",)),
    )
    readers, _ = Group.objects.get_or_create(name=groups.READERS)
    readers.permissions.add(*permissions(groups.OPERATOR_EDITS + groups.VIEW_ONLY, ("view",)))
    cycle = import_module("billing.migrations.0009_collection_cycle_tasks_and_permissions")
    for app, model, actions in cycle.PERMISSIONS:
        operators.permissions.add(*permissions([(app, model)], actions))
        readers.permissions.add(*permissions([(app, model)], ("view",)))
    reminders = import_module("dunning.migrations.0002_staff_access_and_schedule")
    for group in (operators, readers):
        group.permissions.add(*permissions(reminders.VIEW, ("view",)))


def staff_user(username: str, *, superuser: bool = False, groups: tuple[str, ...] = ()):
    from django.contrib.auth.models import Group

    if groups:
        ensure_staff_groups()
    user = UserFactory(username=username, is_superuser=superuser)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base_url}/admin/")
