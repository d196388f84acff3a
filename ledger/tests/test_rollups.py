"""The rollups (`ledger_daytotal`, `ledger_monthtotal`) stay exactly the aggregate of the
transactions whatever writes them, and what is read from them (summaries, list counts, account
balances) equals the same read of the transactions.

The property test walks random sequences of writes through every path that writes a transaction
(the API, batches, CSV imports (COPY on PostgreSQL), JSON restores, transfers, reconciliations, the
admin, category, ledger and user deletions, a bulk UPDATE in a unit of work) and compares the
rollups with the aggregate after each write. A failure names its seed and step: run that seed
alone (`-k "seed-<n>"`) to replay it.
"""

import calendar
import datetime
import random
from collections import Counter, namedtuple
from decimal import Decimal
from io import StringIO
from types import SimpleNamespace
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncMonth
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from conftest import bearer
from ledger import rollups, selectors, services
from ledger.choices import CLEARED_STATUSES, Role, TransactionStatus, TransactionType
from ledger.filters import TransactionFilter
from ledger.models import (
    Account,
    Category,
    DayTotal,
    ImportJob,
    Ledger,
    Membership,
    MonthTotal,
    Transaction,
    Transfer,
)
from ledger.models.rollups import KEY_FIELDS
from ledger.services import bulk as bulk_service
from ledger.tests.factories import (
    AccountFactory,
    CategoryFactory,
    SharedLedgerFactory,
    TransactionFactory,
    add_member,
    main_account,
    personal_ledger,
)

pytestmark = pytest.mark.django_db

INCOME, EXPENSE, TRANSFER = (
    TransactionType.INCOME,
    TransactionType.EXPENSE,
    TransactionType.TRANSFER,
)
PENDING, CLEARED, RECONCILED = (
    TransactionStatus.PENDING,
    TransactionStatus.CLEARED,
    TransactionStatus.RECONCILED,
)
WRITERS = (Role.OWNER, Role.EDITOR)

# Days on both sides of month ends, so that moves cross months and rows share days.
DAYS = [
    datetime.date(2026, 1, 31),
    datetime.date(2026, 2, 1),
    datetime.date(2026, 2, 14),
    datetime.date(2026, 2, 28),
    datetime.date(2026, 3, 1),
    datetime.date(2026, 3, 31),
    datetime.date(2026, 4, 15),
]
AMOUNTS = [Decimal(a) for a in ("0.01", "3.50", "19.99", "250.00", "1234.56")]

SEEDS = [20261201, 7, 4242, 31337, 99991]
STEPS = 30  # every path once (in a random order), then random ones

TRANSACTIONS = reverse("api:transaction-list")
BATCH = reverse("api:transaction-batch")
TRANSFERS = reverse("api:transfer-list")
CATEGORIES = reverse("api:category-list")
LEDGERS = reverse("api:ledger-list")
IMPORTS = reverse("api:import-list")
EXPORT = reverse("api:export-list")
SUMMARY = reverse("api:summary-list")
ACCOUNTS = reverse("api:account-list")
ADMIN_TRANSACTIONS = reverse("admin:ledger_transaction_changelist")
ADMIN_LEDGERS = reverse("admin:ledger_ledger_changelist")
ADMIN_HISTORY = reverse("admin:ledger_historicaltransaction_changelist")


def tx_url(pk: int) -> str:
    return reverse("api:transaction-detail", args=[pk])


def assert_exact(context: str) -> None:
    """The rollups hold exactly what the transactions add up to."""
    differences = list(rollups.drift())
    assert differences == [], f"{context}\n{len(differences)} differences: {differences[:6]}"


def staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def exported(client: APIClient) -> str:
    response = client.get(EXPORT, {"format": "json"})
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def rollup_rows() -> dict:
    """Every rollup row as stored, by table and id."""
    return {
        (model.__name__, row["id"]): row
        for model in (DayTotal, MonthTotal)
        for row in model.objects.values()
    }


def rollup_contents() -> list:
    """Every rollup row's key and numbers, whatever its id."""
    return sorted(
        (model.__name__, *(value for name, value in row.items() if name != "id"))
        for model in (DayTotal, MonthTotal)
        for row in model.objects.values()
    )


# --- The world the writes act on ---------------------------------------------------------------


@pytest.fixture
def world(user, other_user):
    """`user` owns their personal ledger (Main, Savings) and a household (Joint, Joint savings)
    where `other_user` is an editor; `other_user` owns a ledger `user` only views. Categories in
    each, and a few rows everywhere, some cleared, one transfer across ledgers."""
    household = SharedLedgerFactory(owner=user, name="Household")
    add_member(household, other_user, Role.EDITOR)
    viewed = SharedLedgerFactory(owner=other_user, name="Club")
    add_member(viewed, user, Role.VIEWER)
    accounts = [
        main_account(user),
        AccountFactory(owner=user, name="Savings"),
        household.accounts.get(),
        AccountFactory(ledger=household, name="Joint savings"),
        main_account(other_user),
        viewed.accounts.get(),
    ]
    for ledger, names in (
        (personal_ledger(user), ("Food", "Rent")),
        (household, ("Bills", "Food")),
        (personal_ledger(other_user), ("Fun",)),
        (viewed, ("Dues",)),
    ):
        for name in names:
            CategoryFactory(ledger=ledger, name=name)
    for n, account in enumerate(accounts * 2):
        category = Category.objects.filter(ledger_id=account.ledger_id).order_by("pk").first()
        TransactionFactory(
            account=account,
            type=INCOME if n % 3 == 0 else EXPENSE,
            amount=AMOUNTS[n % len(AMOUNTS)],
            date=DAYS[n % len(DAYS)],
            category=category if n % 2 else None,
            status=CLEARED if n % 4 == 1 else PENDING,
            description=f"Initial {n}",
        )
    services.transfer_create(
        actor=user,
        from_account=accounts[0],
        to_account=accounts[2],
        amount=Decimal("40.00"),
        date=DAYS[2],
    )
    return SimpleNamespace(user=user, other_user=other_user, household=household, viewed=viewed)


class Paths:
    """Every path that writes a transaction, each a step of the property test: it writes through
    the path (asserting the path's answer) and checks the rollups after each write it makes.

    Choices are made with `rng` over rows in id order, so a seed replays the same steps."""

    def __init__(self, rng: random.Random, world, capture_on_commit):
        self.rng = rng
        self.world = world
        self.capture_on_commit = capture_on_commit
        self.actors = [world.user, world.other_user]
        self.fixed_ledgers = {world.household.pk, world.viewed.pk}
        self.clients: dict[int, APIClient] = {}
        self.staff = staff_client()
        self.log: list[str] = []
        self.serial = 0
        self.backup = exported(self.client(world.user))

    # Helpers.

    def next(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix} {self.serial}"

    def client(self, actor) -> APIClient:
        if actor.pk not in self.clients:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=bearer(actor))
            self.clients[actor.pk] = client
        return self.clients[actor.pk]

    def check(self, what: str) -> None:
        self.log.append(what)
        assert_exact("after " + "\n  then ".join(self.log[-4:]))

    def actor(self):
        return self.rng.choice(self.actors)

    def pick(self, items: list):
        return self.rng.choice(items) if items else None

    def ledgers(self, actor) -> list[int]:
        """The ledgers `actor` may write."""
        rows = Membership.objects.filter(user=actor, role__in=WRITERS).order_by("ledger_id")
        return list(rows.values_list("ledger_id", flat=True))

    def accounts(self, actor, **filters) -> list[Account]:
        rows = Account.objects.filter(ledger__in=self.ledgers(actor), archived=False, **filters)
        return list(rows.order_by("pk"))

    def rows(self, actor, **filters) -> list[Transaction]:
        rows = Transaction.objects.filter(ledger__in=self.ledgers(actor), **filters)
        return list(rows.order_by("pk"))

    def plain_row(self, actor, **filters) -> Transaction:
        """A random income or expense `actor` may write; one made for it when there is none."""
        found = self.pick(self.rows(actor, transfer=None, **filters))
        if found is None:
            account = self.rng.choice(self.accounts(actor))
            found = TransactionFactory(
                account=account, date=self.day(), description=self.next("Made")
            )
            self.check(f"factory row {found.pk}")
        return found

    def transfers(self, actor) -> list[Transfer]:
        """The transfers whose both legs are in ledgers `actor` may write."""
        legs = Transaction.objects.filter(transfer__isnull=False)
        mine = self.ledgers(actor)
        return list(
            Transfer.objects.filter(pk__in=legs.filter(ledger__in=mine).values("transfer_id"))
            .exclude(pk__in=legs.exclude(ledger__in=mine).values("transfer_id"))
            .order_by("pk")
        )

    def transfer(self, actor) -> Transfer:
        found = self.pick(self.transfers(actor))
        if found is None:
            self.check(self.transfer_create(actor))
            found = self.transfers(actor)[-1]
        return found

    def category(self, ledger_id: int) -> Category | None:
        """A category of the ledger, or none."""
        return self.pick([None, *Category.objects.filter(ledger_id=ledger_id).order_by("pk")])

    def day(self) -> datetime.date:
        return self.rng.choice(DAYS)

    def amount(self, type_: str = INCOME) -> str:
        """An amount the type takes: an expense is sent with either sign."""
        amount = self.rng.choice(AMOUNTS)
        return str(-amount if type_ == EXPENSE and self.rng.random() < 0.5 else amount)

    def reconciled(self, row: Transaction) -> bool:
        """Whether the row, or its transfer's other leg, is reconciled: then its amount, date and
        account stay, and it cannot be deleted."""
        if row.transfer_id is None:
            return row.status == RECONCILED
        return Transaction.objects.filter(transfer_id=row.transfer_id, status=RECONCILED).exists()

    # The API: transactions/, incomes/, expenses/.

    def api_create(self) -> str:
        actor = self.actor()
        account = self.rng.choice(self.accounts(actor))
        endpoint = self.rng.choice(["transaction", "income", "expense"])
        if endpoint == "transaction":
            type_ = self.rng.choice([INCOME, EXPENSE])
        else:
            type_ = INCOME if endpoint == "income" else EXPENSE
        category = self.category(account.ledger_id)
        body = {
            "description": self.next("Created"),
            "amount": self.amount(type_),
            "date": self.day().isoformat(),
            "account": account.pk,
            "category": category and category.pk,
            "status": self.rng.choice([PENDING, CLEARED]),
        }
        if endpoint == "transaction":
            body["type"] = type_
        response = self.client(actor).post(reverse(f"api:{endpoint}-list"), body, format="json")
        assert response.status_code == 201, response.content
        return f"POST {endpoint}s/ {body}"

    def api_patch(self) -> str:
        """A PATCH of one to three fields; an account may be in another ledger, and one in a
        ledger the actor only views is refused (403) with nothing written."""
        actor = self.actor()
        row = self.plain_row(actor)
        names = self.rng.sample(
            ["amount", "type", "date", "account", "category", "status", "description"],
            self.rng.randint(1, 3),
        )
        if row.status == RECONCILED:  # its amount, type, date and account stay
            names = [n for n in names if n in ("category", "status", "description")] or ["status"]
        data: dict = {}
        expected, ledger_id = 200, row.ledger_id
        if "account" in names:
            viewed = Account.objects.filter(ledger=self.world.viewed).order_by("pk")
            if actor == self.world.user and self.rng.random() < 0.2:
                account, expected = viewed.first(), 403
            else:
                account = self.rng.choice(self.accounts(actor))
            data["account"], ledger_id = account.pk, account.ledger_id
            if ledger_id != row.ledger_id and "category" not in names:
                names.append("category")  # the category must be in the account's ledger
        if "category" in names:
            category = self.category(ledger_id)
            data["category"] = category and category.pk
        type_ = row.type
        if "type" in names:
            type_ = data["type"] = self.rng.choice([INCOME, EXPENSE])
        if "amount" in names:
            data["amount"] = self.amount(type_)
        if "date" in names:
            data["date"] = self.day().isoformat()
        if "status" in names:
            data["status"] = self.rng.choice([PENDING, CLEARED])
        if "description" in names:
            data["description"] = self.next("Patched")
        response = self.client(actor).patch(tx_url(row.pk), data, format="json")
        assert response.status_code == expected, response.content
        return f"PATCH transactions/{row.pk} {data} ({expected})"

    def api_put(self) -> str:
        actor = self.actor()
        row = self.plain_row(actor, status__in=[PENDING, CLEARED])
        account = self.rng.choice(self.accounts(actor))
        category = self.category(account.ledger_id)
        type_ = self.rng.choice([INCOME, EXPENSE])
        body = {
            "type": type_,
            "description": self.next("Put"),
            "amount": self.amount(type_),
            "date": self.day().isoformat(),
            "account": account.pk,
            "category": category and category.pk,
            "status": self.rng.choice([PENDING, CLEARED]),
        }
        response = self.client(actor).put(tx_url(row.pk), body, format="json")
        assert response.status_code == 200, response.content
        return f"PUT transactions/{row.pk} {body}"

    def api_describe(self) -> str:
        """A description alone, of any row: a transfer's leg changes both legs."""
        actor = self.actor()
        legs = Transaction.objects.filter(transfer__in=self.transfers(actor)).order_by("pk")
        row = self.pick([*self.rows(actor, transfer=None), *legs]) or self.plain_row(actor)
        data = {"description": self.next("Described")}
        response = self.client(actor).patch(tx_url(row.pk), data, format="json")
        assert response.status_code == 200, response.content
        return f"PATCH transactions/{row.pk} {data}"

    def api_delete(self) -> str:
        actor = self.actor()
        row = self.plain_row(actor)
        expected = 409 if self.reconciled(row) else 204
        response = self.client(actor).delete(tx_url(row.pk))
        assert response.status_code == expected, response.content
        return f"DELETE transactions/{row.pk} ({expected})"

    def batch(self) -> str:
        actor = self.actor()
        rows = []
        for _ in range(self.rng.randint(1, 4)):
            account = self.rng.choice(self.accounts(actor))
            category = self.category(account.ledger_id)
            type_ = self.rng.choice([INCOME, EXPENSE])
            rows.append(
                {
                    "type": type_,
                    "description": self.next("Batched"),
                    "amount": self.amount(type_),
                    "date": self.day().isoformat(),
                    "account": account.pk,
                    "category": category and category.pk,
                    "status": self.rng.choice([PENDING, CLEARED]),
                    "external_id": self.next("ext"),
                }
            )
        response = self.client(actor).post(BATCH, rows, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["created"] == len(rows)
        return f"POST transactions/batch/ {len(rows)} rows"

    # Imports: CSV, and JSON restores.

    def upload(self, actor, content: str, name: str, **data) -> ImportJob:
        """POST a file to imports/, run as its commit would run it (in-process)."""
        with self.capture_on_commit(execute=True):
            response = self.client(actor).post(
                IMPORTS,
                {"file": SimpleUploadedFile(name, content.encode()), **data},
                format="multipart",
            )
        assert response.status_code == 202, response.content
        job = ImportJob.objects.get(pk=response.json()["id"])
        assert job.status == ImportJob.Status.SUCCEEDED, (job.failure, job.errors)
        return job

    def csv_import(self) -> str:
        """A CSV into one account: signed amounts or a type column, categories by name (new ones
        made). On PostgreSQL its rows go in with COPY."""
        actor = self.actor()
        account = self.rng.choice(self.accounts(actor))
        names = [c.name for c in Category.objects.filter(ledger_id=account.ledger_id)]
        lines = ["date,description,amount,type,category"]
        count = self.rng.randint(1, 6)
        for _ in range(count):
            type_ = self.rng.choice([INCOME, EXPENSE])
            amount = self.rng.choice(AMOUNTS)
            signed = amount if type_ == INCOME else -amount
            typed = self.rng.random() < 0.5
            category = self.rng.choice(["", self.next("Imported"), *names])
            lines.append(
                f"{self.day()},{self.next('CSV row')},{amount if typed else signed},"
                f"{type_ if typed else ''},{category}"
            )
        job = self.upload(actor, "\n".join(lines) + "\n", "bank.csv", account=account.pk)
        assert (job.created_count, job.invalid_count) == (count, 0), job.errors
        return f"CSV import of {count} rows into account {account.pk}"

    def json_restore(self) -> str:
        """`user`'s last export restored, by them (what was deleted since comes back: rows and
        whole transfers) or by `other_user` (into their own ledgers)."""
        actor = self.actor()
        job = self.upload(actor, self.backup, "backup.json")
        self.backup = exported(self.client(self.world.user))
        return f"JSON restore by {actor.pk}: {job.created_count} created"

    # Transfers: transfers/, and their legs through transactions/.

    def transfer_create(self, actor=None) -> str:
        actor = actor or self.actor()
        out, into = self.rng.sample(self.accounts(actor), 2)
        body = {
            "from_account": out.pk,
            "to_account": into.pk,
            "amount": self.amount(),
            "date": self.day().isoformat(),
            "description": self.next("Transfer"),
        }
        response = self.client(actor).post(TRANSFERS, body, format="json")
        assert response.status_code == 201, response.content
        return f"POST transfers/ {body}"

    def _leg_account(self, actor, leg: Transaction, other: Transaction) -> Account | None:
        """An account to move a leg to: not the other leg's; not another ledger for a leg with a
        category (it must be in the account's ledger)."""
        choices = [
            a
            for a in self.accounts(actor)
            if a.pk not in (leg.account_id, other.account_id)
            and (leg.category_id is None or a.ledger_id == leg.ledger_id)
        ]
        return self.pick(choices)

    def transfer_update(self) -> str:
        actor = self.actor()
        transfer = self.transfer(actor)
        out, into = transfer.legs.order_by("amount")
        names = self.rng.sample(
            ["amount", "date", "description", "from_account", "to_account"], self.rng.randint(1, 3)
        )
        if self.reconciled(out):
            names = ["description"]
        data: dict = {}
        for name, leg, other in (("from_account", out, into), ("to_account", into, out)):
            account = self._leg_account(actor, leg, other) if name in names else None
            if account is not None:
                data[name] = account.pk
                break  # one side at a time: two moves could meet in one account
        if "amount" in names:
            data["amount"] = self.amount()
        if "date" in names:
            data["date"] = self.day().isoformat()
        data["description"] = self.next("Transfer changed")
        url = reverse("api:transfer-detail", args=[transfer.pk])
        response = self.client(actor).patch(url, data, format="json")
        assert response.status_code == 200, response.content
        return f"PATCH transfers/{transfer.pk} {data}"

    def leg_update(self) -> str:
        """A leg changed through transactions/: amount, date and description change both legs,
        account, category and status its own."""
        actor = self.actor()
        leg = self.rng.choice(list(self.transfer(actor).legs.order_by("amount")))
        other = Transaction.objects.exclude(pk=leg.pk).get(transfer_id=leg.transfer_id)
        names = self.rng.sample(
            ["amount", "date", "description", "account", "category", "status"],
            self.rng.randint(1, 3),
        )
        if self.reconciled(leg):
            names = [n for n in names if n in ("category", "status", "description")] or ["status"]
        data: dict = {}
        if "account" in names and (account := self._leg_account(actor, leg, other)) is not None:
            data["account"] = account.pk
        if "category" in names:
            category = self.category(leg.ledger_id)
            data["category"] = category and category.pk
        if "amount" in names:
            data["amount"] = self.amount()
        if "date" in names:
            data["date"] = self.day().isoformat()
        if "status" in names:
            data["status"] = self.rng.choice([PENDING, CLEARED])
        if "description" in names or not data:
            data["description"] = self.next("Leg changed")
        response = self.client(actor).patch(tx_url(leg.pk), data, format="json")
        assert response.status_code == 200, response.content
        return f"PATCH transactions/{leg.pk} (a leg) {data}"

    def transfer_delete(self) -> str:
        actor = self.actor()
        transfer = self.transfer(actor)
        expected = 409 if self.reconciled(transfer.legs.first()) else 204
        response = self.client(actor).delete(reverse("api:transfer-detail", args=[transfer.pk]))
        assert response.status_code == expected, response.content
        return f"DELETE transfers/{transfer.pk} ({expected})"

    def leg_delete(self) -> str:
        actor = self.actor()
        leg = self.transfer(actor).legs.order_by("pk").first()
        expected = 409 if self.reconciled(leg) else 204
        response = self.client(actor).delete(tx_url(leg.pk))
        assert response.status_code == expected, response.content
        if expected == 204:
            assert not Transaction.objects.filter(transfer_id=leg.transfer_id).exists()
        return f"DELETE transactions/{leg.pk} (a leg: the whole transfer) ({expected})"

    # Categories and reconciliations.

    def category_delete(self) -> str:
        """A category deleted (through the API, the admin's page or its bulk delete): its rows stay,
        uncategorised. Another is made in its ledger."""
        actor = self.actor()
        used = Transaction.objects.filter(ledger__in=self.ledgers(actor), category__isnull=False)
        category = self.pick(
            list(Category.objects.filter(pk__in=used.values("category")).order_by("pk"))
        )
        if category is None:
            category = Category.objects.filter(ledger__in=self.ledgers(actor)).first()
            account = Account.objects.filter(ledger=category.ledger_id).first()
            TransactionFactory(account=account, category=category, description=self.next("Made"))
            self.check(f"factory row in category {category.pk}")
        rows = list(category.transactions.values_list("pk", flat=True))
        path = self.rng.choice(["api", "admin", "admin bulk"])
        if path == "api":
            response = self.client(actor).delete(reverse("api:category-detail", args=[category.pk]))
            assert response.status_code == 204, response.content
        elif path == "admin":
            url = reverse("admin:ledger_category_delete", args=[category.pk])
            assert self.staff.post(url, {"post": "yes"}).status_code == 302
        else:
            response = self.staff.post(
                reverse("admin:ledger_category_changelist"),
                {"action": "delete_selected", "_selected_action": [category.pk], "post": "yes"},
            )
            assert response.status_code == 302
        assert Transaction.objects.filter(pk__in=rows, category=None).count() == len(rows)
        deleted = f"category {category.pk} deleted ({path}): {len(rows)} rows uncategorised"
        self.check(deleted)
        body = {"name": self.next("Category"), "ledger": category.ledger_id}
        assert self.client(actor).post(CATEGORIES, body, format="json").status_code == 201
        return f"{deleted}; another made"

    def reconcile(self) -> str:
        """One or two pending rows cleared, then the account reconciled against the statement its
        cleared rows give: those up to the statement's date become reconciled, in one UPDATE."""
        actor = self.actor()
        account = self.rng.choice(self.accounts(actor))
        client = self.client(actor)
        pending = list(account.transactions.filter(status=PENDING).order_by("pk"))
        for row in self.rng.sample(pending, min(2, len(pending))):
            response = client.patch(tx_url(row.pk), {"status": CLEARED}, format="json")
            assert response.status_code == 200, response.content
            self.check(f"PATCH transactions/{row.pk} cleared")
        statement_date = self.day()
        counted = account.transactions.filter(date__lte=statement_date, status__in=CLEARED_STATUSES)
        balance = sum(counted.values_list("amount", flat=True), account.opening_balance)
        marked = counted.filter(status=CLEARED).count()
        response = client.post(
            reverse("api:account-reconcile", args=[account.pk]),
            {"statement_date": statement_date.isoformat(), "statement_balance": str(balance)},
            format="json",
        )
        assert response.status_code == 200, response.content
        assert response.json()["reconciled"] == marked
        return f"account {account.pk} reconciled on {statement_date}: {marked} rows"

    # The admin.

    def _admin_form(self, row: Transaction | None) -> dict:
        """A transaction's admin form: any field of an income or expense, to any account; only
        what is not fixed of a reconciled row or a transfer's leg."""
        if row is not None and (row.transfer_id or row.status == RECONCILED):
            category = self.category(row.ledger_id)
            return {
                "description": self.next("Admin changed"),
                "category": category.pk if category else "",
                "status": row.status,
                "external_id": row.external_id or "",
            }
        account = self.rng.choice(self.accounts(self.actor()))
        category = self.category(account.ledger_id)
        type_ = self.rng.choice([INCOME, EXPENSE])
        return {
            "account": account.pk,
            "type": type_,
            "description": self.next("Admin"),
            "amount": self.amount(type_),
            "date": self.day().isoformat(),
            "category": category.pk if category else "",
            "status": self.rng.choice(TransactionStatus.values),
            "external_id": "",
        }

    def admin_add(self) -> str:
        form = self._admin_form(None)
        response = self.staff.post(reverse("admin:ledger_transaction_add"), form)
        assert response.status_code == 302, response.content
        return f"admin add {form}"

    def admin_change(self) -> str:
        row = self.pick(self.rows(self.actor())) or self.plain_row(self.world.user)
        form = self._admin_form(row)
        response = self.staff.post(reverse("admin:ledger_transaction_change", args=[row.pk]), form)
        assert response.status_code == 302, response.content
        return f"admin change of {row.pk}: {form}"

    def admin_delete(self) -> str:
        """One row deleted from its admin page (a leg takes its transfer), or several with the
        changelist's bulk delete (one DELETE, reconciled rows and legs too)."""
        rows = self.rows(self.actor()) or [self.plain_row(self.world.user)]
        if self.rng.random() < 0.5:
            row = self.pick([r for r in rows if not self.reconciled(r)]) or self.plain_row(
                self.world.user
            )
            url = reverse("admin:ledger_transaction_delete", args=[row.pk])
            assert self.staff.post(url, {"post": "yes"}).status_code == 302
            assert not Transaction.objects.filter(pk=row.pk).exists()
            return f"admin delete of {row.pk}"
        chosen = [r.pk for r in self.rng.sample(rows, min(3, len(rows)))]
        response = self.staff.post(
            ADMIN_TRANSACTIONS,
            {"action": "delete_selected", "_selected_action": chosen, "post": "yes"},
        )
        assert response.status_code == 302
        assert not Transaction.objects.filter(pk__in=chosen).exists()
        return f"admin bulk delete of {chosen}"

    def admin_restore(self) -> str:
        """A deleted row restored from its history record (the admin's action)."""
        records = Transaction.history.filter(
            history_type="-", transfer__isnull=True, account_id__in=Account.objects.values("pk")
        ).exclude(id__in=Transaction.objects.values("pk"))
        record = self.pick(list(records.order_by("history_id")))
        if record is None:
            row = self.plain_row(self.world.user, status__in=[PENDING, CLEARED])
            assert self.client(self.world.user).delete(tx_url(row.pk)).status_code == 204
            self.check(f"DELETE transactions/{row.pk}, to restore it")
            record = Transaction.history.get(id=row.pk, history_type="-")
        response = self.staff.post(
            ADMIN_HISTORY, {"action": "restore_deleted", "_selected_action": [record.history_id]}
        )
        assert response.status_code == 302
        assert Transaction.objects.filter(pk=record.id).exists()
        return f"admin restore of {record.id}"

    # A bulk UPDATE, as the services write one (a reconciliation's).

    def raw_update(self) -> str:
        """Several rows changed by one UPDATE in a unit of work: moved to one day, to one account,
        uncategorised, doubled, or given a status. One statement changes many keys at once."""
        actor = self.actor()
        rows = self.rows(actor, transfer=None, status__in=[PENDING, CLEARED])
        chosen = self.rng.sample(rows, min(len(rows), self.rng.randint(2, 5)))
        chosen = chosen or [self.plain_row(actor, status__in=[PENDING, CLEARED])]
        ledgers = {row.ledger_id for row in chosen}
        variant = self.rng.choice(["day", "account", "uncategorise", "double", "status"])
        if variant == "day":
            values = {"date": self.day()}
        elif variant == "account":
            account = self.rng.choice(self.accounts(actor))
            values = {"account": account, "ledger_id": account.ledger_id, "category": None}
            ledgers.add(account.ledger_id)
        elif variant == "uncategorise":
            values = {"category": None}
        elif variant == "double":
            values = {"amount": F("amount") * 2}
        else:
            values = {"status": self.rng.choice(TransactionStatus.values)}
        with services.unit_of_work(*ledgers):
            updated = Transaction.objects.filter(pk__in=[r.pk for r in chosen]).update(
                **values, version=F("version") + 1
            )
        assert updated == len(chosen)
        return f"UPDATE of {updated} rows: {variant}"

    # Ledgers, members, users.

    def ledger_create(self) -> str:
        return f"ledger {self.new_ledger().pk} made"

    def new_ledger(self, actor=None) -> Ledger:
        """A new ledger (the API), with a category, two rows and a transfer from another of the
        actor's ledgers."""
        actor = actor or self.actor()
        client = self.client(actor)
        response = client.post(LEDGERS, {"name": self.next("Extra")}, format="json")
        assert response.status_code == 201, response.content
        ledger = Ledger.objects.get(pk=response.json()["id"])
        account = ledger.accounts.get()
        body = {"name": "Extras", "ledger": ledger.pk}
        category = client.post(CATEGORIES, body, format="json").json()["id"]
        for type_ in (INCOME, EXPENSE):
            body = {
                "type": type_,
                "description": self.next("In extra"),
                "amount": self.amount(type_),
                "date": self.day().isoformat(),
                "account": account.pk,
                "category": category,
            }
            assert client.post(TRANSACTIONS, body, format="json").status_code == 201
        body = {
            "from_account": self.rng.choice(self.accounts(actor, ledger__personal_for=actor)).pk,
            "to_account": account.pk,
            "amount": self.amount(),
            "date": self.day().isoformat(),
        }
        assert client.post(TRANSFERS, body, format="json").status_code == 201
        self.check(f"ledger {ledger.pk} made with rows")
        return ledger

    def ledger_delete(self) -> str:
        """A ledger deleted through the API, the admin's page or its bulk delete, with its
        transfers' legs in other ledgers; refused (409) while one of those is reconciled."""
        actor = self.actor()
        owned = Membership.objects.filter(user=actor, role=Role.OWNER, ledger__personal_for=None)
        ledger = self.pick(
            list(
                Ledger.objects.filter(pk__in=owned.values("ledger"))
                .exclude(pk__in=self.fixed_ledgers)
                .order_by("pk")
            )
        ) or self.new_ledger(actor)
        transfers = Transaction.objects.filter(ledger=ledger).values("transfer_id")
        blocked = (
            Transaction.objects.filter(transfer__in=transfers, status=RECONCILED)
            .exclude(ledger=ledger)
            .exists()
        )
        path = "api" if blocked else self.rng.choice(["api", "admin", "admin bulk"])
        if path == "api":
            response = self.client(actor).delete(reverse("api:ledger-detail", args=[ledger.pk]))
            assert response.status_code == (409 if blocked else 204), response.content
        elif path == "admin":
            url = reverse("admin:ledger_ledger_delete", args=[ledger.pk])
            assert self.staff.post(url, {"post": "yes"}).status_code == 302
        else:
            response = self.staff.post(
                ADMIN_LEDGERS,
                {"action": "delete_selected", "_selected_action": [ledger.pk], "post": "yes"},
            )
            assert response.status_code == 302
        assert Ledger.objects.filter(pk=ledger.pk).exists() is blocked
        return f"ledger {ledger.pk} deleted ({path}, {'refused' if blocked else 'done'})"

    def ledger_clear(self) -> str:
        """A ledger's transactions and categories deleted (the demo's reset)."""
        ledger = self.new_ledger()
        services.ledger_clear(ledger_id=ledger.pk)
        assert not Transaction.objects.filter(ledger=ledger).exists()
        return f"ledger {ledger.pk} cleared"

    def member_remove(self) -> str:
        """A member who wrote rows and a transfer into the household is removed: the rows stay."""
        newcomer = UserFactory()
        household = self.world.household
        add_member(household, newcomer, Role.EDITOR)
        self.check(self.transfer_create(newcomer))
        before = Transaction.objects.filter(ledger=household).count()
        url = reverse("api:ledger-member-detail", args=[household.pk, newcomer.pk])
        assert self.client(self.world.user).delete(url).status_code == 204
        assert Transaction.objects.filter(ledger=household).count() == before
        return f"member {newcomer.pk} removed"

    def user_delete(self) -> str:
        """A user deleted: their personal ledger goes in Django's cascade, with their transfers'
        legs elsewhere; a shared ledger they alone are in goes; rows they wrote in the household
        stay, their author set to null (an UPDATE that changes no rollup). Deleted as a model,
        not through the admin: its delete page refuses every user, whose personal ledger, in the
        cascade, it may not delete (LedgerAdmin.has_delete_permission)."""
        departing = UserFactory()
        household = self.world.household
        add_member(household, departing, Role.EDITOR)
        departing.refresh_from_db()  # their new role, under their new generation
        alone = services.ledger_create(user=departing, name="Alone")
        for account in (main_account(departing), alone.accounts.get()):
            TransactionFactory(account=account, date=self.day(), description=self.next("Gone"))
        kept = TransactionFactory(
            account=household.accounts.order_by("pk").first(),
            created_by=departing,
            date=self.day(),
            description=self.next("Kept"),
        )
        services.transfer_create(
            actor=departing,
            from_account=main_account(departing),
            to_account=household.accounts.order_by("pk").first(),
            amount=self.rng.choice(AMOUNTS),
            date=self.day(),
        )
        self.check(f"user {departing.pk} wrote rows")
        gone = [alone.pk, personal_ledger(departing).pk]
        departing.delete()
        assert not Ledger.objects.filter(pk__in=gone).exists()
        kept.refresh_from_db()
        assert kept.created_by_id is None
        return f"user deleted, with ledgers {gone}"

    PATHS = [
        "api_create",
        "api_patch",
        "api_put",
        "api_describe",
        "api_delete",
        "batch",
        "csv_import",
        "json_restore",
        "transfer_create",
        "transfer_update",
        "leg_update",
        "transfer_delete",
        "leg_delete",
        "category_delete",
        "reconcile",
        "admin_add",
        "admin_change",
        "admin_delete",
        "admin_restore",
        "raw_update",
        "ledger_create",
        "ledger_delete",
        "ledger_clear",
        "member_remove",
        "user_delete",
    ]

    def run(self, seed: int, steps: int) -> None:
        order = list(self.PATHS)
        self.rng.shuffle(order)
        order += [self.rng.choice(self.PATHS) for _ in range(steps - len(order))]
        for number, name in enumerate(order, 1):
            what = getattr(self, name)()
            self.check(f"seed {seed}, step {number} ({name}): {what}")


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed-{s}" for s in SEEDS])
def test_random_writes_through_every_path_keep_the_rollups_exact(
    seed, world, django_capture_on_commit_callbacks
):
    assert_exact("the world as made")
    assert DayTotal.objects.exists() and MonthTotal.objects.exists()
    Paths(random.Random(seed), world, django_capture_on_commit_callbacks).run(seed, STEPS)
    # Every table row stands for transactions: none is left at zero.
    assert not DayTotal.objects.filter(transactions__lte=0).exists()
    assert not MonthTotal.objects.filter(transactions__lte=0).exists()


# --- rebuild_rollups -----------------------------------------------------------------------------


def check_command(*args: str) -> str:
    out = StringIO()
    call_command("rebuild_rollups", "--check", *args, stdout=out)
    return out.getvalue()


def test_rebuild_rollups_check_finds_a_tampered_row_and_a_rebuild_fixes_it(world):
    assert check_command() == "Rollups match the transactions.\n"
    household = world.household.pk
    tampered = DayTotal.objects.filter(ledger=household).order_by("pk").first()
    DayTotal.objects.filter(pk=tampered.pk).update(inflow=F("inflow") + 1)
    MonthTotal.objects.filter(ledger=household).order_by("pk").last().delete()
    stray = DayTotal.objects.create(
        ledger_id=10**9,
        account_id=10**9,
        type=INCOME,
        status=PENDING,
        date=DAYS[0],
        transactions=1,
        inflow=100,
        outflow=0,
    )

    out = StringIO()
    with pytest.raises(CommandError, match=r"^3 rollup rows differ") as error:
        call_command("rebuild_rollups", "--check", stdout=out)
    assert error.value.returncode == 1  # manage.py's exit status
    assert out.getvalue().count("the rollup holds") == 3
    differences = {(d.table, d.key[0]) for d in rollups.drift()}
    assert differences == {
        ("ledger_daytotal", household),
        ("ledger_monthtotal", household),
        ("ledger_daytotal", 10**9),
    }
    # The tampered row: what its transactions give, and what it holds.
    found = next(d for d in rollups.drift([household]) if d.table == "ledger_daytotal")
    assert found.stored == (tampered.transactions, tampered.inflow + 1, tampered.outflow)
    assert found.expected == (tampered.transactions, tampered.inflow, tampered.outflow)
    # Only the ledgers asked for.
    assert check_command("--ledger", str(personal_ledger(world.user).pk)).startswith(
        "Rollups match"
    )
    with pytest.raises(CommandError, match=r"^2 rollup rows differ"):
        check_command("--ledger", str(household))

    out = StringIO()
    call_command("rebuild_rollups", stdout=out)
    assert out.getvalue() == "Rollups rebuilt from the transactions.\n"
    assert check_command() == "Rollups match the transactions.\n"
    assert not DayTotal.objects.filter(pk=stray.pk).exists()
    key = ("ledger_id", "account_id", "category_id", "type", "status", "date")
    rebuilt = DayTotal.objects.get(**{name: getattr(tampered, name) for name in key})
    assert rebuilt.inflow == tampered.inflow


def test_a_rebuild_of_exact_rollups_changes_nothing(world):
    before = rollup_contents()
    assert len(before) > 10
    rollups.rebuild()
    assert rollup_contents() == before


# --- What a write changes ------------------------------------------------------------------------


@pytest.fixture
def rollup_writes():
    """How many rollup rows have been inserted, updated or deleted since the fixture began,
    counted by a row trigger on both tables (dropped with the test's transaction)."""
    tables = ("ledger_daytotal", "ledger_monthtotal")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE TEMP TABLE rollup_writes (n integer)")
            cursor.execute(
                "CREATE FUNCTION pg_temp.count_rollup_write() RETURNS trigger AS $$"
                " BEGIN INSERT INTO rollup_writes VALUES (1); RETURN NULL; END $$"
                " LANGUAGE plpgsql"
            )
            for table in tables:
                cursor.execute(
                    f"CREATE TRIGGER count_write AFTER INSERT OR UPDATE OR DELETE ON {table}"
                    " FOR EACH ROW EXECUTE FUNCTION pg_temp.count_rollup_write()"
                )
        else:
            cursor.execute("CREATE TEMP TABLE rollup_writes (n integer)")
            for table in tables:
                for event in ("INSERT", "UPDATE", "DELETE"):
                    cursor.execute(
                        f"CREATE TEMP TRIGGER count_{table}_{event} AFTER {event} ON main.{table}"  # noqa: S608
                        " BEGIN INSERT INTO rollup_writes VALUES (1); END"
                    )

    def count() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM rollup_writes")
            return cursor.fetchone()[0]

    return count


def test_a_description_only_update_writes_no_rollup_row(world, auth_client, rollup_writes):
    user = world.user
    row = (
        Transaction.objects.filter(ledger=personal_ledger(user), transfer=None)
        .order_by("pk")
        .first()
    )
    leg = Transaction.objects.filter(transfer__isnull=False).order_by("pk").first()
    before = rollup_rows()

    # The API, for a row and for a transfer's leg (both legs written, their amounts unchanged).
    for tx in (row, leg):
        response = auth_client.patch(tx_url(tx.pk), {"description": "Renamed"}, format="json")
        assert response.status_code == 200, response.content
    # The admin's save writes every column, the same values but the description.
    row.refresh_from_db()
    form = {
        "account": row.account_id,
        "type": row.type,
        "description": "Renamed again",
        "amount": str(abs(row.amount)),
        "date": row.date.isoformat(),
        "category": row.category_id or "",
        "status": row.status,
        "external_id": "",
    }
    staff = staff_client()
    response = staff.post(reverse("admin:ledger_transaction_change", args=[row.pk]), form)
    assert response.status_code == 302, response.content
    # One UPDATE of many rows.
    household = Transaction.objects.filter(ledger=world.household, transfer=None)
    with services.unit_of_work(world.household.pk):
        assert household.update(description="All renamed") > 1

    descriptions = Transaction.objects.filter(description__contains="enamed")
    assert sorted(descriptions.values_list("description", flat=True)) == [
        *["All renamed"] * household.count(),
        "Renamed",
        "Renamed",
        "Renamed again",
    ]
    assert rollup_writes() == 0
    assert rollup_rows() == before

    # What a rollup holds does write (the count above can see writes).
    response = auth_client.patch(tx_url(row.pk), {"amount": "77.77"}, format="json")
    assert response.status_code == 200, response.content
    assert rollup_writes() > 0
    assert rollup_rows() != before
    assert_exact("after the amount's change")


def test_a_rollup_row_whose_count_reaches_zero_disappears(auth_client, user, category):
    account = main_account(user)
    alone = datetime.date(2025, 7, 14)  # no other row in that month
    first, second = (
        TransactionFactory(account=account, date=alone, category=category, amount=Decimal(a))
        for a in ("5.00", "7.25")
    )
    key = {
        "ledger": account.ledger_id,
        "account": account,
        "category": category,
        "type": EXPENSE,
        "status": PENDING,
    }
    assert DayTotal.objects.get(date=alone, **key).transactions == 2
    assert MonthTotal.objects.get(date=datetime.date(2025, 7, 1), **key).outflow == -1225

    # One leaves the key: the row stays with the other.
    response = auth_client.patch(tx_url(first.pk), {"date": "2025-08-01"}, format="json")
    assert response.status_code == 200
    day = DayTotal.objects.get(date=alone, **key)
    assert (day.transactions, day.inflow, day.outflow) == (1, 0, -725)

    # The other one leaves it too: no row at zero is left, in either table.
    response = auth_client.patch(tx_url(second.pk), {"category": None}, format="json")
    assert response.status_code == 200
    assert not DayTotal.objects.filter(date=alone, **key).exists()
    assert not MonthTotal.objects.filter(date=datetime.date(2025, 7, 1), **key).exists()
    assert DayTotal.objects.filter(date=alone, category=None).get().transactions == 1

    # Deleted, both of them at once (one statement): nothing of them is left.
    services.transaction_delete_many(
        transactions=Transaction.objects.filter(pk__in=[first.pk, second.pk])
    )
    assert not DayTotal.objects.filter(date__year=2025).exists()
    assert not MonthTotal.objects.filter(date__year=2025).exists()
    assert not DayTotal.objects.filter(transactions__lte=0).exists()
    assert_exact("after the deletes")


def test_the_month_table_is_the_day_table_by_month(world, django_capture_on_commit_callbacks):
    paths = Paths(random.Random(5), world, django_capture_on_commit_callbacks)
    for name in (
        "api_patch",
        "raw_update",
        "transfer_update",
        "api_delete",
        "csv_import",
        "reconcile",
    ):
        getattr(paths, name)()
    numbers = ("transactions", "inflow", "outflow")
    by_month = (
        DayTotal.objects.annotate(month=TruncMonth("date"))
        .values(*KEY_FIELDS, "month")
        .annotate(**{f"total_{n}": Sum(n) for n in numbers}, days=Count("id"))
        .order_by()
    )
    expected = {
        (*(row[f] for f in KEY_FIELDS), row["month"]): tuple(row[f"total_{n}"] for n in numbers)
        for row in by_month
    }
    months = MonthTotal.objects.values_list(*KEY_FIELDS, "date", *numbers)
    assert {tuple(row[:6]): tuple(row[6:]) for row in months} == expected
    # The months do gather several days.
    assert any(row["days"] > 1 for row in by_month)
    assert len(expected) >= 10


@pytest.mark.postgres
def test_a_copy_import_of_many_rows_keeps_the_rollups_exact(user, auth_client, settings, upload):
    settings.CASHMAN_IMPORT_BATCH_SIZE = 1000
    rng = random.Random(2026)
    account = main_account(user)
    TransactionFactory(account=account, date=datetime.date(2026, 2, 3), amount=Decimal("9.99"))
    lines = ["date,description,amount,category"]
    amounts = []
    for n in range(2500):
        amount = Decimal(rng.randint(-50_000, 50_000) or 1) / 100
        amounts.append(amount)
        day = datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randint(0, 180))
        lines.append(f"{day},Row {n},{amount},{rng.choice(['', 'Food', 'Rent', 'Fun'])}")

    with mock.patch.object(bulk_service, "_copy", wraps=bulk_service._copy) as copy:
        response = upload(auth_client, "\n".join(lines) + "\n")
    assert response.status_code == 202, response.content
    job = ImportJob.objects.get(pk=response.json()["id"])
    assert (job.status, job.created_count) == (ImportJob.Status.SUCCEEDED, 2500), job.errors
    # Three batches, each one COPY of its transactions (and one of their history).
    assert [c.args[1] for c in copy.call_args_list].count(Transaction) == 3

    assert_exact("after the COPY import")
    totals = DayTotal.objects.filter(account=account).aggregate(
        n=Sum("transactions"), plus=Sum("inflow"), minus=Sum("outflow")
    )
    cents = [int(a * 100) for a in amounts]
    assert totals == {
        "n": 2501,
        "plus": sum(c for c in cents if c > 0),
        "minus": sum(c for c in cents if c < 0) - 999,
    }
    summary = selectors.summary_total(transactions=selectors.RollupSet(user))
    assert summary["balance"] == sum(amounts) - Decimal("9.99")
    assert summary["count"] == 2501

    # Deleted in one statement: the rows at zero go.
    services.transaction_delete_many(transactions=Transaction.objects.filter(account=account))
    assert not DayTotal.objects.filter(account=account).exists()
    assert not MonthTotal.objects.filter(account=account).exists()
    assert_exact("after the delete")


# --- Reads from the rollups ----------------------------------------------------------------------

Row = namedtuple("Row", "ledger account category type status date amount")


def month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def random_day(rng: random.Random, start: datetime.date, days: int) -> datetime.date:
    """A day of the span, half the time one on a month's edge (its first two days or its last
    two), where a range that cuts months splits between the day and month rollups."""
    day = start + datetime.timedelta(days=rng.randint(0, days))
    if rng.random() < 0.5:
        edges = [day.replace(day=1), day.replace(day=2), month_end(day)]
        day = rng.choice([*edges, month_end(day) - datetime.timedelta(days=1)])
    return day


@pytest.fixture
def varied(user, other_user):
    """150 rows and a dozen transfers over five months, in the user's two ledgers, a ledger
    they only view, and ledgers they are not in; statuses of every kind; a category deleted."""
    rng = random.Random(8080)
    household = SharedLedgerFactory(owner=user, name="Household")
    add_member(household, other_user, Role.EDITOR)
    viewed = SharedLedgerFactory(owner=other_user, name="Club")
    add_member(viewed, user, Role.VIEWER)
    savings = services.account_create(actor=user, name="Savings", opening_balance=Decimal("100.50"))
    accounts = [
        main_account(user),
        savings,
        household.accounts.get(),
        AccountFactory(ledger=household, name="Joint savings"),
        viewed.accounts.get(),
        main_account(other_user),
        main_account(UserFactory()),
    ]
    for account in accounts:
        for name in ("Food", "Rent"):
            CategoryFactory(ledger=account.ledger, name=f"{name} {account.pk}")

    def day() -> datetime.date:
        return random_day(rng, datetime.date(2025, 12, 1), 150)

    for _ in range(150):
        account = rng.choice(accounts)
        TransactionFactory(
            account=account,
            type=rng.choice([INCOME, EXPENSE]),
            amount=Decimal(rng.randint(1, 99_999)) / 100,
            date=day(),
            category=rng.choice([None, *Category.objects.filter(ledger_id=account.ledger_id)]),
            status=rng.choice(TransactionStatus.values),
        )
    for _ in range(12):
        actor = rng.choice([user, other_user])
        mine = [
            a
            for a in accounts
            if Membership.objects.filter(
                user=actor, ledger_id=a.ledger_id, role__in=WRITERS
            ).exists()
        ]
        out, into = rng.sample(mine, 2)
        services.transfer_create(
            actor=actor,
            from_account=out,
            to_account=into,
            amount=Decimal(rng.randint(1, 50_000)) / 100,
            date=day(),
        )
    services.category_delete(category=Category.objects.filter(ledger=household).first())
    return SimpleNamespace(household=household, viewed=viewed, accounts=accounts)


def visible_rows(user) -> list[Row]:
    rows = selectors.transactions_for(user=user).values_list(
        "ledger", "account", "category", "type", "status", "date", "amount"
    )
    return [Row(*row) for row in rows]


def hand_filtered(rows: list[Row], params: dict, transaction_type: str | None) -> list[Row]:
    def keep(row: Row) -> bool:
        if transaction_type is not None and row.type != transaction_type:
            return False
        for name in ("ledger", "account", "type", "status"):
            if name in params and getattr(row, name) != params[name]:
                return False
        if "category" in params and row.category != (
            None if params["category"] == "none" else params["category"]
        ):
            return False
        if "date_after" in params and row.date < params["date_after"]:
            return False
        return not ("date_before" in params and row.date > params["date_before"])

    return [row for row in rows if keep(row)]


def hand_totals(rows: list[Row]) -> dict:
    def total(keep) -> Decimal:
        return sum((row.amount for row in rows if keep(row)), Decimal("0.00"))

    income = total(lambda r: r.type == INCOME)
    expense = total(lambda r: r.type == EXPENSE)
    return {
        "income": income,
        "expense": expense,
        "balance": income + expense,
        "transfers_in": total(lambda r: r.type == TRANSFER and r.amount > 0),
        "transfers_out": total(lambda r: r.type == TRANSFER and r.amount < 0),
        "count": len(rows),
    }


def random_dates(rng: random.Random, mode: str) -> dict:
    """`date_after` / `date_before` of one kind of range, over the rows' five months."""

    def day() -> datetime.date:
        return random_day(rng, datetime.date(2025, 11, 20), 170)

    first, second = sorted([day(), day()])
    if mode == "after":
        return {"date_after": first}
    if mode == "before":
        return {"date_before": second}
    if mode == "cutting months":  # from within one month to within a later one
        later = first + datetime.timedelta(days=rng.randint(35, 120))
        return {
            "date_after": first.replace(day=rng.choice([2, rng.randint(3, 27)])),
            "date_before": later.replace(day=rng.choice([1, rng.randint(2, 27)])),
        }
    if mode == "whole months":
        return {"date_after": first.replace(day=1), "date_before": month_end(second)}
    if mode == "same month":
        last = first + datetime.timedelta(days=rng.randint(0, 20))
        return {"date_after": first, "date_before": min(last, month_end(first))}
    if mode == "one day":
        return {"date_after": first, "date_before": first}
    if mode == "reversed":
        return {"date_after": second + datetime.timedelta(days=1), "date_before": first}
    return {}


#: Ranges that start or end on a month's edge or a day off it, each filtered once.
EDGES = [
    {"date_before": datetime.date(2026, 3, 1)},
    {"date_before": datetime.date(2026, 2, 28)},
    {"date_before": datetime.date(2026, 1, 30)},
    {"date_after": datetime.date(2026, 1, 31)},
    {"date_after": datetime.date(2026, 2, 1)},
    {"date_after": datetime.date(2026, 1, 2)},
    {"date_after": datetime.date(2025, 12, 31), "date_before": datetime.date(2026, 3, 1)},
    {"date_after": datetime.date(2025, 12, 2), "date_before": datetime.date(2026, 1, 30)},
    {"date_after": datetime.date(2026, 1, 2), "date_before": datetime.date(2026, 2, 1)},
    {"date_after": datetime.date(2026, 1, 1), "date_before": datetime.date(2026, 1, 31)},
    {"date_after": datetime.date(2026, 3, 1), "date_before": datetime.date(2026, 2, 28)},
]
DATE_MODES = [
    "none",
    "after",
    "before",
    "cutting months",
    "whole months",
    "same month",
    "one day",
    "reversed",
]


def random_filters(rng: random.Random, user) -> dict:
    """None to two of the filters besides the dates, of values the user may name."""
    params = {}
    ledgers = list(selectors.ledger_rows_for(user=user).order_by("pk").values_list("pk", flat=True))
    accounts = list(
        selectors.account_rows_for(user=user).order_by("pk").values_list("pk", flat=True)
    )
    categories = list(
        selectors.categories_for(user=user).order_by("pk").values_list("pk", flat=True)
    )
    choices = {
        "ledger": ledgers,
        "account": accounts,
        "type": TransactionType.values,
        "status": TransactionStatus.values,
        "category": [*categories, "none", "none"],
    }
    for name in rng.sample(sorted(choices), rng.choice([0, 1, 1, 2])):
        params[name] = rng.choice(choices[name])
    return params


def as_query(params: dict) -> dict:
    return {name: str(value) for name, value in params.items()}


SUMMARIES = (selectors.summary_total, selectors.summary_monthly, selectors.summary_by_category)


def test_summaries_counts_and_balances_from_the_rollups_equal_the_transactions(
    user, auth_client, varied
):
    rng = random.Random(1234)
    rows = visible_rows(user)
    ranges = [random_dates(rng, mode) for mode in DATE_MODES for _ in range(8)] + EDGES
    selecting = 0
    for number, dates in enumerate(ranges):
        params = {**dates, **random_filters(rng, user)}
        transaction_type = rng.choice([None, None, INCOME, EXPENSE])
        context = f"filters {params}, of type {transaction_type}"
        queryset = selectors.transactions_for(user=user, transaction_type=transaction_type)
        filterset = TransactionFilter(
            as_query(params), queryset=queryset, request=SimpleNamespace(user=user), given_only=True
        )
        assert filterset.is_valid(), filterset.errors
        rollup_set = filterset.rollups(user, transaction_type)
        assert rollup_set is not None, context

        # The rollups read as the transactions are.
        for summary in SUMMARIES:
            from_rollups = summary(transactions=rollup_set)
            assert from_rollups == summary(transactions=filterset.qs), context
        # And as added up by hand.
        expected = hand_filtered(rows, params, transaction_type)
        assert rollup_set.count() == len(expected), context
        assert selectors.summary_total(transactions=rollup_set) == hand_totals(expected), context
        by_month = Counter(row.date.isoformat()[:7] for row in expected)
        monthly = selectors.summary_monthly(transactions=rollup_set)
        assert {row["month"]: row["count"] for row in monthly} == by_month, context
        selecting += bool(expected)

        if number % 2 == 0 and transaction_type is None:  # the API: summary, the list's count
            body = auth_client.get(SUMMARY, as_query(params)).json()
            count = body.pop("count")
            assert {name: Decimal(value) for name, value in body.items()} | {"count": count} == (
                hand_totals(expected)
            ), context
            page = auth_client.get(TRANSACTIONS, {**as_query(params), "page_size": 1}).json()
            assert page["count"] == len(expected), context
    assert selecting >= 40, selecting  # most filters select rows

    # Balances: opening balance plus every row of the account, and plus its cleared ones.
    listed = auth_client.get(ACCOUNTS, {"page_size": 100}).json()["results"]
    assert len(listed) == 5
    for account in listed:
        opening = Decimal(account["opening_balance"])
        mine = [row for row in rows if row.account == account["id"]]
        cleared = [row for row in mine if row.status in CLEARED_STATUSES]
        assert Decimal(account["balance"]) == opening + sum(r.amount for r in mine), account
        assert Decimal(account["cleared_balance"]) == opening + sum(r.amount for r in cleared), (
            account
        )
