from django.apps import AppConfig


class LedgerConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ledger"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from ledger.models import Category, Transaction
        from ledger.signals import ledger_row_written

        for model in (Transaction, Category):
            post_save.connect(ledger_row_written, sender=model, dispatch_uid=f"ledger-{model}-save")
            post_delete.connect(
                ledger_row_written, sender=model, dispatch_uid=f"ledger-{model}-delete"
            )
