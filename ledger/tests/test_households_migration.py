"""The households data migration (issue 22) keeps everything: every user gets a personal ledger,
"Personal", which they own, with one account, "Main", holding all their transactions, categories,
history records and import jobs; ids, amounts and versions are unchanged; idempotency keys stay
the user's. Migrating back gives every row back to its user.

The migrations run on the test database itself (a TransactionTestCase): the test leaves it
migrated forward, to every app's latest migration, whatever happens.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import bearer

BEFORE = [
    ("ledger", "0005_import_job_heartbeat"),
    # The accounts app's latest migration when ledger 0005 was made.
    ("accounts", "0005_welcome_email_owed_since"),
]
AFTER = [("ledger", "0008_households_finish")]

TRANSACTION_FIELDS = (
    "id",
    "type",
    "description",
    "amount",
    "date",
    "category_id",
    "external_id",
    "fingerprint",
    "version",
    "created_at",
    "updated_at",
)
HISTORY_FIELDS = (
    "history_id",
    "id",
    "type",
    "description",
    "amount",
    "date",
    "category_id",
    "external_id",
    "version",
    "history_type",
    "history_user_id",
)
KEY_FIELDS = ("id", "user_id", "key", "fingerprint", "status_code", "response_body")
JOB_FIELDS = ("id", "owner_id", "filename", "format", "status", "rows_total", "created_count")


def migrate(targets):
    """Migrate the test database to `targets`; the historical models there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()  # what was applied
    return executor.loader.project_state(targets).apps


def migrate_to_the_latest():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def rows(model, fields, **filters):
    return {row[fields[0]]: row for row in model.objects.filter(**filters).values(*fields)}


def at(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(9), tzinfo=datetime.UTC)


def seed(apps):
    """Two users with their books, and a third with none, as the flat model kept them."""
    User = apps.get_model("accounts", "User")
    Category = apps.get_model("ledger", "Category")
    Transaction = apps.get_model("ledger", "Transaction")
    History = apps.get_model("ledger", "HistoricalTransaction")
    IdempotencyKey = apps.get_model("ledger", "IdempotencyKey")
    ImportJob = apps.get_model("ledger", "ImportJob")

    ann = User.objects.create(email="ann@example.com", date_joined=at(datetime.date(2026, 2, 1)))
    bob = User.objects.create(email="bob@example.com", date_joined=at(datetime.date(2026, 3, 1)))
    User.objects.create(email="cat@example.com", date_joined=at(datetime.date(2026, 4, 1)))

    salary = Category.objects.create(owner=ann, name="Salary")
    food = Category.objects.create(owner=ann, name="Food", version=2)
    bobs_food = Category.objects.create(owner=bob, name="Food")

    def tx(owner, type_, amount, day, **extra):
        return Transaction.objects.create(
            owner=owner,
            type=type_,
            description=extra.pop("description", f"{type_} {amount}"),
            amount=Decimal(amount),
            date=day,
            **extra,
        )

    # Ann's first transaction is older than her account: her "Main" opens then.
    pay = tx(
        ann, "INCOME", "1000.00", datetime.date(2026, 1, 15), category=salary, external_id="bank-1"
    )
    lunch = tx(
        ann,
        "EXPENSE",
        "-12.34",
        datetime.date(2026, 2, 3),
        category=food,
        fingerprint="f" * 64,
        version=3,
    )
    tx(ann, "EXPENSE", "-0.10", datetime.date(2026, 2, 4))
    tx(ann, "INCOME", "999999999999.99", datetime.date(2026, 2, 5))
    # The same external id as Ann's: unique per user then, per account now.
    bus = tx(
        bob, "EXPENSE", "-5.00", datetime.date(2026, 3, 9), category=bobs_food, external_id="bank-1"
    )

    for row, kind, by in ((pay, "+", ann), (lunch, "~", ann), (bus, "+", None)):
        History.objects.create(
            id=row.pk,
            owner_id=row.owner_id,
            type=row.type,
            description=row.description,
            amount=row.amount,
            date=row.date,
            category_id=row.category_id,
            external_id=row.external_id,
            fingerprint=row.fingerprint,
            created_at=row.created_at,
            version=row.version,
            history_date=timezone.now(),
            history_type=kind,
            history_user=by,
        )
    # A deleted transaction of Bob's: only its history record is left.
    History.objects.create(
        id=pay.pk + 1000,
        owner_id=bob.pk,
        type="EXPENSE",
        description="Deleted",
        amount=Decimal("-1.00"),
        date=datetime.date(2026, 3, 10),
        created_at=timezone.now(),
        version=2,
        history_date=timezone.now(),
        history_type="-",
        history_user=bob,
    )
    for user, key in ((ann, "same-key"), (bob, "same-key"), (ann, "another")):
        IdempotencyKey.objects.create(
            user=user,
            key=key,
            fingerprint="0" * 64,
            status_code=201,
            response_body={"id": pay.pk, "amount": "1000.00"},
        )
    for user, name in ((ann, "ann.csv"), (bob, "bob.json")):
        ImportJob.objects.create(
            owner=user,
            file=f"imports/2026/03/{name}",
            filename=name,
            format=name.rsplit(".", 1)[1],
            status="succeeded",
            rows_total=3,
            created_count=2,
        )


@pytest.mark.django_db(transaction=True)
def test_households_migration_keeps_everything():
    try:
        _check_forward_and_back()
    finally:
        migrate_to_the_latest()


def _check_forward_and_back():
    old = migrate(BEFORE)
    seed(old)
    User = old.get_model("accounts", "User")
    users = {user.email: user.pk for user in User.objects.all()}
    before = {
        "transactions": rows(
            old.get_model("ledger", "Transaction"), (*TRANSACTION_FIELDS, "owner_id")
        ),
        "categories": rows(
            old.get_model("ledger", "Category"), ("id", "name", "version", "owner_id")
        ),
        "history": rows(
            old.get_model("ledger", "HistoricalTransaction"), (*HISTORY_FIELDS, "owner_id")
        ),
        "keys": rows(old.get_model("ledger", "IdempotencyKey"), KEY_FIELDS),
        "jobs": rows(old.get_model("ledger", "ImportJob"), JOB_FIELDS),
    }

    new = migrate(AFTER)
    _check_forward(new, users, before)
    # The app needs every later migration: the rollups' (0010) are filled from these rows.
    migrate_to_the_latest()
    _check_the_app_reads_it(users, before)

    back = migrate(BEFORE)
    _check_backward(back, before)


def _check_forward(apps, users, before):
    Ledger = apps.get_model("ledger", "Ledger")
    Membership = apps.get_model("ledger", "Membership")
    Account = apps.get_model("ledger", "Account")
    Category = apps.get_model("ledger", "Category")
    Transaction = apps.get_model("ledger", "Transaction")
    History = apps.get_model("ledger", "HistoricalTransaction")
    IdempotencyKey = apps.get_model("ledger", "IdempotencyKey")
    ImportJob = apps.get_model("ledger", "ImportJob")

    assert Ledger.objects.count() == Membership.objects.count() == Account.objects.count() == 3
    ledgers, mains = {}, {}
    for user_id in users.values():
        ledger = Ledger.objects.get(personal_for_id=user_id)
        assert ledger.name == "Personal"
        assert list(Membership.objects.filter(ledger=ledger).values_list("user_id", "role")) == [
            (user_id, "owner")
        ]
        main = Account.objects.get(ledger=ledger)
        assert (main.name, main.kind, main.opening_balance, main.archived) == (
            "Main",
            "checking",
            Decimal("0"),
            False,
        )
        ledgers[user_id], mains[user_id] = ledger.pk, main.pk
    opened = dict(Account.objects.values_list("ledger__personal_for__email", "opening_date"))
    assert opened == {
        "ann@example.com": datetime.date(2026, 1, 15),  # her first transaction's date
        "bob@example.com": datetime.date(2026, 3, 1),  # the day he joined
        "cat@example.com": datetime.date(2026, 4, 1),
    }

    after = rows(
        Transaction,
        (*TRANSACTION_FIELDS, "ledger_id", "account_id", "created_by_id", "status", "transfer_id"),
    )
    assert set(after) == set(before["transactions"])
    for pk, old in before["transactions"].items():
        row = after[pk]
        assert {f: row[f] for f in TRANSACTION_FIELDS} == {f: old[f] for f in TRANSACTION_FIELDS}
        owner = old["owner_id"]
        assert (row["ledger_id"], row["account_id"], row["created_by_id"]) == (
            ledgers[owner],
            mains[owner],
            owner,
        )
        assert row["status"] == "pending"
        assert row["transfer_id"] is None

    categories = rows(Category, ("id", "name", "version", "ledger_id"))
    assert set(categories) == set(before["categories"])
    for pk, old in before["categories"].items():
        assert (categories[pk]["name"], categories[pk]["version"]) == (old["name"], old["version"])
        assert categories[pk]["ledger_id"] == ledgers[old["owner_id"]]

    history = rows(History, (*HISTORY_FIELDS, "ledger_id", "account_id", "created_by_id"))
    assert set(history) == set(before["history"])
    for pk, old in before["history"].items():
        assert {f: history[pk][f] for f in HISTORY_FIELDS} == {f: old[f] for f in HISTORY_FIELDS}
        owner = old["owner_id"]
        assert (
            history[pk]["ledger_id"],
            history[pk]["account_id"],
            history[pk]["created_by_id"],
        ) == (ledgers[owner], mains[owner], owner)

    assert rows(IdempotencyKey, KEY_FIELDS) == before["keys"]

    jobs = rows(ImportJob, (*JOB_FIELDS, "account_id"))
    assert set(jobs) == set(before["jobs"])
    for pk, old in before["jobs"].items():
        assert {f: jobs[pk][f] for f in JOB_FIELDS} == old
        assert jobs[pk]["account_id"] == mains[old["owner_id"]]


def _check_the_app_reads_it(users, before):
    """The application, on the migrated rows: each user sees their own books, and only them."""
    from accounts.models import User

    ann = User.objects.get(pk=users["ann@example.com"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(ann))
    summary = client.get(reverse("api:summary-list"))
    assert summary.status_code == 200, summary.content
    assert summary.json()["income"] == "1000000000999.99"
    assert summary.json()["expense"] == "-12.44"
    assert summary.json()["count"] == 4
    accounts = client.get(reverse("api:account-list")).json()
    accounts = accounts["results"] if isinstance(accounts, dict) else accounts
    assert [(a["name"], a["balance"]) for a in accounts] == [("Main", "1000000000987.55")]
    ledgers = client.get(reverse("api:ledger-list")).json()
    ledgers = ledgers["results"] if isinstance(ledgers, dict) else ledgers
    assert [(lg["name"], lg["role"], lg["personal"]) for lg in ledgers] == [
        ("Personal", "owner", True)
    ]
    anns = {pk for pk, row in before["transactions"].items() if row["owner_id"] == ann.pk}
    listed = client.get(reverse("api:transaction-list")).json()
    listed = listed["results"] if isinstance(listed, dict) else listed
    assert {row["id"] for row in listed} == anns
    lunch = next(pk for pk, row in before["transactions"].items() if row["version"] == 3)
    detail = client.get(reverse("api:transaction-detail", args=[lunch]))
    assert detail["ETag"] == f'"{lunch}-3"'
    history = client.get(reverse("api:transaction-history", args=[lunch]))
    assert history.status_code == 200
    assert [entry["action"] for entry in history.json()] == ["updated"]


def _check_backward(apps, before):
    tables = connection.introspection.table_names()
    for gone in ("ledger_ledger", "ledger_membership", "ledger_account", "ledger_transfer"):
        assert gone not in tables
    Transaction = apps.get_model("ledger", "Transaction")
    Category = apps.get_model("ledger", "Category")
    History = apps.get_model("ledger", "HistoricalTransaction")
    IdempotencyKey = apps.get_model("ledger", "IdempotencyKey")
    ImportJob = apps.get_model("ledger", "ImportJob")
    assert rows(Transaction, (*TRANSACTION_FIELDS, "owner_id")) == before["transactions"]
    assert rows(Category, ("id", "name", "version", "owner_id")) == before["categories"]
    assert rows(History, (*HISTORY_FIELDS, "owner_id")) == before["history"]
    assert rows(IdempotencyKey, KEY_FIELDS) == before["keys"]
    assert rows(ImportJob, JOB_FIELDS) == before["jobs"]
