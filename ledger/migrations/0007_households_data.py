"""Every user gets a personal ledger, with them as its owner and one account, "Main", holding all
of their transactions, categories, history records and import jobs. Idempotency keys stay the
user's. The reverse gives each row back to its personal ledger's user, and refuses (before
changing anything) when shared ledgers or transfers exist.
"""

from django.db import migrations


def forward(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Ledger = apps.get_model("ledger", "Ledger")
    Membership = apps.get_model("ledger", "Membership")
    Account = apps.get_model("ledger", "Account")
    Category = apps.get_model("ledger", "Category")
    Transaction = apps.get_model("ledger", "Transaction")
    History = apps.get_model("ledger", "HistoricalTransaction")
    ImportJob = apps.get_model("ledger", "ImportJob")
    for user in User.objects.order_by("pk").iterator():
        first = Transaction.objects.filter(owner=user).order_by("date").values("date").first()
        opened = min(first["date"], user.date_joined.date()) if first else user.date_joined.date()
        # get_or_create: a run stopped half-way and started again makes nothing twice.
        ledger, _ = Ledger.objects.get_or_create(personal_for=user, defaults={"name": "Personal"})
        Membership.objects.get_or_create(ledger=ledger, user=user, defaults={"role": "owner"})
        account = Account.objects.filter(ledger=ledger).order_by("pk").first()
        if account is None:
            account = Account.objects.create(
                ledger=ledger, name="Main", kind="checking", opening_date=opened
            )
        Category.objects.filter(owner=user).update(ledger=ledger)
        Transaction.objects.filter(owner=user).update(
            ledger=ledger, account=account, created_by=user
        )
        History.objects.filter(owner_id=user.pk).update(
            ledger_id=ledger.pk, account_id=account.pk, created_by_id=user.pk
        )
        ImportJob.objects.filter(owner=user).update(account=account)


class SharedData(RuntimeError):
    pass


def backward(apps, schema_editor):
    """Only personal ledgers without transfers go back: a user's list has no room for a shared
    ledger's rows or a transfer. Anything else stops the migration, before it changes a row."""
    Ledger = apps.get_model("ledger", "Ledger")
    Category = apps.get_model("ledger", "Category")
    Transaction = apps.get_model("ledger", "Transaction")
    History = apps.get_model("ledger", "HistoricalTransaction")
    shared = Ledger.objects.filter(personal_for__isnull=True).count()
    transfers = Transaction.objects.filter(type="TRANSFER").count()
    if shared or transfers:
        raise SharedData(
            f"Cannot go back before ledgers: {shared} shared ledger(s) and {transfers} transfer "
            "leg(s) have no place in one user's list. Delete them first (an export keeps them)."
        )
    for ledger in Ledger.objects.filter(personal_for__isnull=False).iterator():
        Category.objects.filter(ledger=ledger).update(owner_id=ledger.personal_for_id)
        Transaction.objects.filter(ledger=ledger).update(owner_id=ledger.personal_for_id)
        History.objects.filter(ledger_id=ledger.pk).update(owner_id=ledger.personal_for_id)
    # What forward made: a second run of it makes them again.
    Transaction.objects.update(ledger=None, account=None)
    Category.objects.update(ledger=None)
    apps.get_model("ledger", "ImportJob").objects.update(account=None)
    apps.get_model("ledger", "Account").objects.all().delete()
    apps.get_model("ledger", "Membership").objects.all().delete()
    Ledger.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("ledger", "0006_households"), ("accounts", "0006_ledger_generation_help")]

    operations = [
        migrations.RunPython(forward, backward),
    ]
