from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from billing.services.notifications.known_accounts import forget_saved_account
        from providers.models import BankAccount

        # The notification intake reads an account saved here afresh (other processes within
        # NOTIFICATION_ACCOUNT_CACHE_SECONDS).
        for signal in (post_save, post_delete):
            signal.connect(forget_saved_account, sender=BankAccount, dispatch_uid="billing.known_accounts")
