"""Payments are unique within the bank account and environment that reported them, not across every
account: sandbox and production id sequences overlap, and two Juno accounts are two id spaces.

Existing payments take their charge's account, and that account's environment as it is now.
"""

import django.db.models.deletion
from django.db import migrations, models

MYCONTAS_TEST_ACCOUNT_CODE = "1234567890ABCDEFGHIJ"  # providers.models: the published test credentials


def fill(apps, schema_editor):
    Payment = apps.get_model("billing", "Payment")
    BankAccount = apps.get_model("providers", "BankAccount")
    for account in BankAccount.objects.all():
        if account.gateway == "juno":
            sandbox = bool(account.sandbox_token)
        else:
            sandbox = account.account_code == MYCONTAS_TEST_ACCOUNT_CODE
        Payment.objects.filter(charge__bank_account=account).update(bank_account=account, sandbox=sandbox)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0006_notification_intake"),
        ("providers", "0002_asaas"),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="bank_account",
            field=models.ForeignKey(
                help_text="The account that reported the payment: its ids are unique there.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="providers.bankaccount",
                verbose_name="bank account",
            ),
        ),
        migrations.AddField(
            model_name="payment",
            name="sandbox",
            field=models.BooleanField(
                help_text="Reported by the gateway's sandbox.", null=True, verbose_name="sandbox"
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="payment",
            name="bank_account",
            field=models.ForeignKey(
                help_text="The account that reported the payment: its ids are unique there.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="providers.bankaccount",
                verbose_name="bank account",
            ),
        ),
        migrations.AlterField(
            model_name="payment",
            name="sandbox",
            field=models.BooleanField(help_text="Reported by the gateway's sandbox.", verbose_name="sandbox"),
        ),
        migrations.RemoveConstraint(model_name="payment", name="payment_unique_gateway_payment_id"),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(
                fields=("bank_account", "sandbox", "gateway_payment_id"), name="payment_unique_per_account"
            ),
        ),
    ]
