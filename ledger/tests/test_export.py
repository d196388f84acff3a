import csv
import datetime
import io
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from conftest import bearer
from ledger import selectors, services
from ledger.choices import AccountKind, TransactionType
from ledger.models import Account, ImportJob, Transaction, Transfer
from ledger.tests.factories import (
    CategoryFactory,
    SharedLedgerFactory,
    TransactionFactory,
    main_account,
    personal_ledger,
)

pytestmark = pytest.mark.django_db

EXPORT = reverse("api:export-list")


@pytest.fixture
def ledger_rows(user, other_user):
    food = CategoryFactory(owner=user, name="Food")
    CategoryFactory(owner=user, name="Unused, but kept")
    rows = [
        TransactionFactory(
            owner=user,
            type=TransactionType.INCOME,
            amount=Decimal("3000"),
            description="Salary",
            external_id="bank-1",
        ),
        TransactionFactory(
            owner=user, amount=Decimal("3.50"), description='Coffee, "large"', category=food
        ),
        # Two rows that look alike are both kept by a restore.
        TransactionFactory(
            owner=user, amount=Decimal("3.50"), description='Coffee, "large"', category=food
        ),
    ]
    TransactionFactory(owner=other_user, description="not mine")
    return rows


def body(response) -> str:
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def test_csv_export_streams_the_users_rows(auth_client, ledger_rows):
    response = auth_client.get(EXPORT, {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert len(rows) == 3
    assert {r["description"] for r in rows} == {"Salary", 'Coffee, "large"'}
    assert rows[0]["amount"] in ("3000.00", "-3.50")
    assert "not mine" not in str(rows)


def test_export_applies_the_list_filters(auth_client, ledger_rows):
    rows = list(csv.DictReader(io.StringIO(body(auth_client.get(EXPORT, {"type": "INCOME"})))))
    assert [r["description"] for r in rows] == ["Salary"]


def test_unknown_format_and_bad_filters_are_json_400(auth_client):
    response = auth_client.get(EXPORT, {"format": "xml"})
    assert response.status_code == 400
    assert response.json() == {"format": ["Choose csv or json."]}
    assert auth_client.get(EXPORT, {"date_after": "soon"}).status_code == 400


def test_anonymous_is_401_json(api_client):
    response = api_client.get(EXPORT)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"


def test_export_query_count_is_fixed(
    auth_client, ledger_rows, django_assert_num_queries, django_assert_max_num_queries
):
    with django_assert_num_queries(3):  # the user, their ledgers, and the rows
        body(auth_client.get(EXPORT))
    # JSON adds its header's: categories, ledgers, accounts, transfers (whatever their number);
    # the user's ledgers are read again only without a cache (SQLite's tests).
    with django_assert_max_num_queries(7):
        body(auth_client.get(EXPORT, {"format": "json"}))


def test_json_export_restores_into_a_new_account_with_equal_rows_and_summaries(
    auth_client, user, ledger_rows, django_capture_on_commit_callbacks
):
    exported = body(auth_client.get(EXPORT, {"format": "json"}))
    assert json.loads(exported)["format"] == "cashman-export"

    newcomer = UserFactory()
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=bearer(newcomer))
    for attempt in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            response = fresh.post(
                reverse("api:import-list"),
                {"file": SimpleUploadedFile("backup.json", exported.encode())},
                format="multipart",
            )
        assert response.status_code == 202, response.content
        job = fresh.get(reverse("api:import-detail", args=[response.json()["id"]])).json()
        assert job["status"] == "succeeded", job
        assert job["created_count"] == (3 if attempt == 0 else 0)

    def snapshot(client):
        summary = client.get(reverse("api:summary-list")).json()
        by_category = client.get(reverse("api:summary-by-category")).json()
        for row in by_category:
            row.pop("category")
        categories = client.get(reverse("api:category-list")).json()["results"]
        return summary, by_category, sorted(c["name"] for c in categories)

    assert snapshot(fresh) == snapshot(auth_client)

    def rows_of(owner):
        return sorted(
            (
                t.date,
                t.type,
                t.description,
                t.amount,
                t.category.name if t.category else None,
                t.external_id,
            )
            for t in Transaction.objects.filter(ledger__personal_for=owner).select_related(
                "category"
            )
        )

    assert rows_of(newcomer) == rows_of(user)


def fresh_client() -> tuple[APIClient, object]:
    newcomer = UserFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(newcomer))
    return client, newcomer


@pytest.fixture
def households(user, other_user):
    """The user's personal ledger with three accounts (one archived), a shared ledger of theirs,
    transfers between them, statuses set by hand and by a reconciliation; and another user's
    ledger, which no export of theirs shows."""
    main = main_account(user)
    savings = services.account_create(
        actor=user,
        ledger=personal_ledger(user),
        name="Savings",
        kind=AccountKind.SAVINGS,
        opening_balance=Decimal("250.00"),
        opening_date=datetime.date(2026, 1, 1),
    )
    card = services.account_create(
        actor=user,
        ledger=personal_ledger(user),
        name="Old card",
        kind=AccountKind.CREDIT_CARD,
        opening_balance=Decimal("-20.00"),
        opening_date=datetime.date(2026, 1, 1),
    )
    household = SharedLedgerFactory(owner=user, name="Household")
    joint = household.accounts.get()
    utilities = CategoryFactory(ledger=household, name="Utilities")
    CategoryFactory(ledger=household, name="Garden")  # unused, kept
    TransactionFactory(
        owner=user, type=TransactionType.INCOME, amount=Decimal("3000"), description="Salary"
    )
    coffee = TransactionFactory(owner=user, amount=Decimal("3.50"), description="Coffee")
    services.transaction_update(transaction=coffee, data={"status": "cleared"}, actor=user)
    TransactionFactory(
        account=joint, amount=Decimal("80"), description="Electricity", category=utilities
    )
    day = datetime.date(2026, 11, 5)
    saved = services.transfer_create(
        actor=user, from_account=main, to_account=savings, amount=Decimal("500"), date=day
    )
    services.transfer_create(
        actor=user,
        from_account=main,
        to_account=joint,
        amount=Decimal("100.25"),
        date=day,
        description="Share of rent",
    )
    services.transfer_create(
        actor=user, from_account=main, to_account=card, amount=Decimal("20"), date=day
    )
    services.account_update(account=card, actor=user, data={"archived": True})
    arrived = saved.legs.get(account=savings)
    services.transaction_update(transaction=arrived, data={"status": "cleared"}, actor=user)
    services.account_reconcile(
        account=savings,
        actor=user,
        statement_date=datetime.date(2026, 11, 30),
        statement_balance=Decimal("750.00"),
    )
    TransactionFactory(owner=other_user, description="not mine")
    return {"main": main, "savings": savings, "card": card, "household": household}


def header_of(exported: str) -> dict:
    return json.loads(exported.split("\n", 1)[0][:-1] + "}")


def test_json_export_holds_ledgers_accounts_transfers_and_each_rows_account(
    auth_client, user, households
):
    exported = body(auth_client.get(EXPORT, {"format": "json"}))
    document = json.loads(exported)
    header = header_of(exported)
    assert header["version"] == 2 and header["source"] and header["server"]
    household = households["household"]
    personal = personal_ledger(user)
    assert header["ledgers"] == [
        {"id": personal.pk, "name": "Personal", "personal": True, "categories": []},
        {
            "id": household.pk,
            "name": "Household",
            "personal": False,
            "categories": ["Garden", "Utilities"],
        },
    ]
    assert sorted(header["categories"]) == ["Garden", "Utilities"]
    accounts = {a["name"]: a for a in header["accounts"]}
    assert set(accounts) == {"Main", "Savings", "Old card"} | {"Main"}
    assert len(header["accounts"]) == 4
    assert accounts["Savings"] == {
        "id": households["savings"].pk,
        "ledger": personal.pk,
        "name": "Savings",
        "kind": "savings",
        "opening_balance": "250.00",
        "opening_date": "2026-01-01",
        "archived": False,
    }
    assert accounts["Old card"]["archived"] is True
    transfers = {t["description"]: t for t in header["transfers"]}
    assert set(transfers) == {"Transfer", "Share of rent"} and len(header["transfers"]) == 3
    rent = transfers["Share of rent"]
    legs = {t["id"]: t for t in document["transactions"] if t["transfer"] == rent["id"]}
    assert rent["from_account"] == households["main"].pk
    assert rent["to_account"] == household.accounts.get().pk
    assert (rent["amount"], rent["date"]) == ("100.25", "2026-11-05")
    assert legs[rent["from_transaction"]]["amount"] == "-100.25"
    assert legs[rent["to_transaction"]]["ledger"] == household.pk
    assert {t["type"] for t in legs.values()} == {"TRANSFER"}
    statuses = {(t["description"], t["amount"]): t["status"] for t in document["transactions"]}
    assert statuses[("Coffee", "-3.50")] == "cleared"
    assert statuses[("Transfer", "500.00")] == "reconciled"
    assert statuses[("Salary", "3000.00")] == "pending"
    assert all(
        {"account", "ledger", "status", "transfer"} <= row.keys()
        for row in document["transactions"]
    )
    assert "not mine" not in exported


def test_a_filtered_json_export_lists_only_the_transfers_of_its_rows(auth_client, households):
    header = header_of(body(auth_client.get(EXPORT, {"format": "json", "type": "INCOME"})))
    assert header["transfers"] == []
    assert len(header["accounts"]) == 4  # where rows may go


def accounts_of(user) -> dict:
    """Each account of the user's ledgers by (ledger, name): kind, opening balance and date,
    archived, balance and cleared balance."""
    return {
        (a.ledger.name, a.name): (
            a.kind,
            a.opening_balance,
            a.opening_date,
            a.archived,
            selectors.balance(a, "balance_cents"),
            selectors.balance(a, "cleared_cents"),
        )
        for a in selectors.accounts_for(user=user).select_related("ledger")
    }


def transfers_of(user) -> list:
    found = []
    for transfer in selectors.transfers_for(user=user):
        out, into = transfer.legs.all()
        found.append(
            (
                out.account.name,
                into.account.name,
                into.amount,
                out.amount,
                into.date,
                into.description,
                out.status,
                into.status,
            )
        )
    return sorted(found)


def rows_of(user) -> list:
    return sorted(
        (
            t.account.ledger.name,
            t.account.name,
            t.date,
            t.type,
            t.description,
            t.amount,
            t.status,
            t.category.name if t.category else None,
            t.transfer_id is not None,
        )
        for t in selectors.transactions_for(user=user).select_related("account__ledger")
    )


def test_a_json_export_restored_into_a_fresh_user_brings_back_ledgers_accounts_and_transfers(
    auth_client, user, households, upload
):
    exported = body(auth_client.get(EXPORT, {"format": "json"}))
    client, newcomer = fresh_client()

    job = ImportJob.objects.get(pk=upload(client, exported, "backup.json").json()["id"])
    assert (job.status, job.invalid_count, job.duplicate_count) == ("succeeded", 0, 0), job.errors
    assert job.created_count == job.rows_total == 9  # three rows, three transfers' legs
    newcomer.refresh_from_db()  # the import's new ledger raised their generation (cached roles)
    assert accounts_of(newcomer) == accounts_of(user)
    assert transfers_of(newcomer) == transfers_of(user)
    assert rows_of(newcomer) == rows_of(user)
    categories = selectors.categories_for(user=newcomer).values_list("ledger__name", "name")
    assert sorted(categories) == [("Household", "Garden"), ("Household", "Utilities")]
    restored = Transaction.objects.filter(ledger__memberships__user=newcomer)
    assert set(restored.values_list("created_by", flat=True)) == {newcomer.pk}
    assert Transfer.objects.filter(legs__in=restored).distinct().count() == 3
    assert client.get(reverse("api:summary-list")).json() == (
        auth_client.get(reverse("api:summary-list")).json()
    )

    again = ImportJob.objects.get(pk=upload(client, exported, "backup.json").json()["id"])
    assert (again.status, again.created_count, again.duplicate_count) == ("succeeded", 0, 9)
    assert accounts_of(newcomer) == accounts_of(user)
    assert Transfer.objects.count() == 6


def test_restoring_ones_own_export_brings_back_a_lost_transfer_alone(
    auth_client, user, households, upload
):
    exported = body(auth_client.get(EXPORT, {"format": "json"}))
    rent = Transfer.objects.get(legs__description="Share of rent", legs__amount__lt=0)
    services.transfer_delete(transfer=rent, actor=user)
    before = Account.objects.count()

    job = ImportJob.objects.get(pk=upload(auth_client, exported, "backup.json").json()["id"])
    assert (job.created_count, job.duplicate_count, job.invalid_count) == (2, 7, 0), job.errors
    assert Account.objects.count() == before  # into the accounts themselves
    back = Transfer.objects.get(legs__description="Share of rent", legs__amount__lt=0)
    legs = {leg.account_id: leg.amount for leg in back.legs.all()}
    joint = households["household"].accounts.get()
    assert legs == {households["main"].pk: Decimal("-100.25"), joint.pk: Decimal("100.25")}
