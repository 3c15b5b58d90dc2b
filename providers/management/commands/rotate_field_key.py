"""``python manage.py rotate_field_key --new-key K``: re-encrypt every secret stored at rest with K.

Encrypted fields (django-fernet-encrypted-fields: ``BankAccount.token``, ``sandbox_token``,
``account_password``, and any other ``EncryptedFieldMixin`` field of any model) derive their Fernet
keys from ``SECRET_KEY`` (and ``SECRET_KEY_FALLBACKS``) and ``SALT_KEY``, which is the
comma-separated ``FIELD_ENCRYPTION_KEY``: the first key encrypts, every key decrypts. Rotation:

1. set ``FIELD_ENCRYPTION_KEY="K,old"`` everywhere and restart (new writes use K, old rows still read);
2. run ``python manage.py rotate_field_key --new-key K`` once (any machine);
3. set ``FIELD_ENCRYPTION_KEY="K"`` and restart.

The command reads the stored ciphertext directly (so a value no key opens is reported, never
silently re-encrypted), decrypts it with every configured key, and writes it back encrypted with K
under the current ``SECRET_KEY``. All rows change in one transaction; ``--dry-run`` only counts.
Values are never printed.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from encrypted_fields.fields import EncryptedFieldMixin

#: django-fernet-encrypted-fields' key derivation (PBKDF2-SHA256, 100 000 rounds, salt = the key).
KDF_ITERATIONS = 100_000


def derive(secret_key: str, salt_key: str) -> Fernet:
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt_key.encode(), iterations=KDF_ITERATIONS)
    return Fernet(base64.urlsafe_b64encode(kdf.derive(secret_key.encode())))


def configured_salt_keys() -> list[str]:
    return list(settings.SALT_KEY) if isinstance(settings.SALT_KEY, list | tuple) else [settings.SALT_KEY]


def encrypted_fields() -> Iterator[tuple[type[models.Model], models.Field]]:
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedFieldMixin):
                yield model, field


def forget_cached_keys() -> None:
    """Encrypted fields cache their keys per process; drop them so later reads use the settings."""
    for _model, field in encrypted_fields():
        field.__dict__.pop("keys", None)
        field.__dict__.pop("f", None)


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field with a new FIELD_ENCRYPTION_KEY (see the README)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--new-key", required=True, help="The key to encrypt with from now on.")
        parser.add_argument("--dry-run", action="store_true", help="Count what would change; write nothing.")

    def handle(self, *args: Any, new_key: str, dry_run: bool, **options: Any) -> None:
        new_key = new_key.strip()
        salt_keys = configured_salt_keys()
        if not new_key or "," in new_key:
            raise CommandError("--new-key must be one non-empty key without commas.")
        if new_key not in salt_keys:
            raise CommandError(
                'Set FIELD_ENCRYPTION_KEY="<new key>,<old keys>" and restart every process first: '
                "the running application must be able to read what this command writes."
            )
        if salt_keys[0] != new_key:
            self.stderr.write(
                self.style.WARNING(
                    "The new key is not the first in FIELD_ENCRYPTION_KEY: new writes keep using the old one."
                )
            )
        secret_keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
        encrypter = derive(settings.SECRET_KEY, new_key)
        reader = MultiFernet([encrypter] + [derive(s, k) for s in secret_keys for k in salt_keys])

        total = unreadable = 0
        with transaction.atomic():
            for model, field in encrypted_fields():
                changed, bad = self._rotate(model, field, reader, encrypter, write=not dry_run)
                total += changed
                unreadable += bad
                label = f"{model._meta.label}.{field.name}"
                self.stdout.write(f"{label}: {changed} re-encrypted" + (f", {bad} unreadable" if bad else ""))
            if unreadable:
                raise CommandError(
                    f"{unreadable} value(s) could not be decrypted with any configured key; nothing was "
                    "changed. Add the key they were written with to FIELD_ENCRYPTION_KEY and run again."
                )
            if dry_run:
                transaction.set_rollback(True)
        forget_cached_keys()
        verb = "would be re-encrypted (dry run)" if dry_run else "re-encrypted"
        self.stdout.write(self.style.SUCCESS(f"{total} value(s) {verb} with the new key."))

    @staticmethod
    def _rotate(
        model: type[models.Model], field: models.Field, reader: MultiFernet, encrypter: Fernet, *, write: bool
    ) -> tuple[int, int]:
        table = connection.ops.quote_name(model._meta.db_table)
        column = connection.ops.quote_name(str(field.column))
        pk = connection.ops.quote_name(str(model._meta.pk.column))
        changed = unreadable = 0
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {pk}, {column} FROM {table} WHERE {column} IS NOT NULL AND {column} <> ''"  # noqa: S608
            )
            rows = cursor.fetchall()
            for row_id, stored in rows:
                try:
                    plain = reader.decrypt(stored.encode())
                except InvalidToken:
                    unreadable += 1
                    continue
                if write:
                    cursor.execute(
                        f"UPDATE {table} SET {column} = %s WHERE {pk} = %s",  # noqa: S608
                        [encrypter.encrypt(plain).decode(), row_id],
                    )
                changed += 1
        return changed, unreadable
