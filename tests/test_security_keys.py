"""rotate_field_key: every encrypted field is re-encrypted with the new key, read with the old ones."""

from __future__ import annotations

import pytest
from cryptography.fernet import InvalidToken
from django.core.management import CommandError, call_command
from django.db import connection

from providers.management.commands.rotate_field_key import derive, forget_cached_keys
from providers.models import BankAccount
from tests.factories import JunoAccountFactory, MycontasAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def old_key(settings):
    settings.SALT_KEY = ["old-key"]
    forget_cached_keys()
    yield
    forget_cached_keys()


def use_keys(settings, *keys):
    settings.SALT_KEY = list(keys)
    forget_cached_keys()


def stored(account, column):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM providers_bankaccount WHERE id = %s", [account.pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_rotation_re_encrypts_every_field_with_the_new_key(settings, capsys):
    juno = JunoAccountFactory(token="PROD-TOKEN-1", sandbox_token="SANDBOX-TOKEN-2")
    mycontas = MycontasAccountFactory(account_password="teste123")
    before = stored(juno, "token")
    assert "PROD-TOKEN-1" not in before

    use_keys(settings, "new-key", "old-key")
    call_command("rotate_field_key", "--new-key", "new-key")

    new = derive(settings.SECRET_KEY, "new-key")
    assert new.decrypt(stored(juno, "token").encode()) == b"PROD-TOKEN-1"
    assert new.decrypt(stored(juno, "sandbox_token").encode()) == b"SANDBOX-TOKEN-2"
    assert new.decrypt(stored(mycontas, "account_password").encode()) == b"teste123"
    with pytest.raises(InvalidToken):
        derive(settings.SECRET_KEY, "old-key").decrypt(stored(juno, "token").encode())

    # The old key can now be dropped: the application still reads every secret.
    use_keys(settings, "new-key")
    juno = BankAccount.objects.get(pk=juno.pk)
    assert (juno.token, juno.sandbox_token) == ("PROD-TOKEN-1", "SANDBOX-TOKEN-2")
    assert BankAccount.objects.get(pk=mycontas.pk).account_password == "teste123"
    output = capsys.readouterr().out
    assert "providers.BankAccount.token: 1 re-encrypted" in output
    assert "PROD-TOKEN-1" not in output and "teste123" not in output


def test_empty_values_stay_empty(settings):
    account = MycontasAccountFactory(account_password="teste123")  # no Juno tokens
    use_keys(settings, "new-key", "old-key")

    call_command("rotate_field_key", "--new-key", "new-key")

    assert stored(account, "token") in ("", None)
    use_keys(settings, "new-key")
    assert BankAccount.objects.get(pk=account.pk).token in ("", None)


def test_the_new_key_must_be_configured_first(settings):
    JunoAccountFactory()

    with pytest.raises(CommandError, match="FIELD_ENCRYPTION_KEY"):
        call_command("rotate_field_key", "--new-key", "new-key")


def test_a_value_no_key_opens_stops_the_rotation_and_changes_nothing(settings):
    good = JunoAccountFactory(token="PROD-TOKEN-1")
    use_keys(settings, "stranger-key")
    JunoAccountFactory(token="WRITTEN-WITH-ANOTHER-KEY")
    before = stored(good, "token")

    use_keys(settings, "new-key", "old-key")
    with pytest.raises(CommandError, match="could not be decrypted"):
        call_command("rotate_field_key", "--new-key", "new-key")

    assert stored(good, "token") == before


def test_dry_run_writes_nothing(settings, capsys):
    account = JunoAccountFactory(token="PROD-TOKEN-1")
    before = stored(account, "token")
    use_keys(settings, "new-key", "old-key")

    call_command("rotate_field_key", "--new-key", "new-key", "--dry-run")

    assert stored(account, "token") == before
    assert "would be re-encrypted" in capsys.readouterr().out
