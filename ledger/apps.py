from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_save, pre_delete


class LedgerConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ledger"

    def ready(self) -> None:
        # Every user gets a personal ledger when made, however made (sign-up, the admin,
        # createsuperuser): the accounts app knows nothing of ledgers.
        from ledger.receivers import personal_ledger_for_new_user, transfers_of_deleted_user

        post_save.connect(
            personal_ledger_for_new_user,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="ledger.personal_ledger_for_new_user",
        )
        pre_delete.connect(
            transfers_of_deleted_user,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="ledger.transfers_of_deleted_user",
        )
