#!/usr/bin/env python3
"""Creates (or resets) the demo's superuser and prints its login.

The password is random, kept in ``var/admin-password`` (mode 0600) so it stays the same from one
``make run`` to the next, and printed every time. For the demo only: production superusers are
created with ``manage.py createsuperuser``.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PASSWORD_FILE = BASE_DIR / "var" / "admin-password"
USERNAME = os.environ.get("DEMO_ADMIN_USERNAME", "admin")


def stored_password() -> str:
    if PASSWORD_FILE.exists() and PASSWORD_FILE.read_text().strip():
        return PASSWORD_FILE.read_text().strip()
    PASSWORD_FILE.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    descriptor = os.open(PASSWORD_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(password + "\n")
    return password


def main() -> int:
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    password = stored_password()
    user, created = get_user_model().objects.get_or_create(
        username=USERNAME, defaults={"email": f"{USERNAME}@example.com"}
    )
    user.is_staff = user.is_superuser = user.is_active = True
    if created or not user.check_password(password):
        user.set_password(password)
    user.save()
    # A demo admin locked out by earlier mistyped passwords gets back in.
    from axes.utils import reset

    reset(username=USERNAME)
    print(f"admin login: http://127.0.0.1:8000/admin/  user '{USERNAME}'  password '{password}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
