"""CSV exports never hand a spreadsheet a formula, and Cashman's own CSV imports back unchanged."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from ledger import services
from ledger.choices import TransactionType
from ledger.exports import spreadsheet_text
from ledger.models import Transaction
from ledger.tests.factories import (
    CategoryFactory,
    TransactionFactory,
    main_account,
    personal_ledger,
)

pytestmark = pytest.mark.django_db

EXPORT = reverse("api:export-list")
CHANGELIST = reverse("admin:ledger_transaction_changelist")
DANGEROUS = [
    '=HYPERLINK("http://x","y")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1)",
    "\tTab",
    "\rReturn",
    "'quoted",
]


def text(response) -> str:
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def csv_rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text(response))))


@pytest.fixture
def dangerous_rows(user):
    """One row per dangerous start, in its description, category and external id (saved
    directly: the factory does not trim, so tab and CR starts reach the database)."""
    return [
        TransactionFactory(
            owner=user,
            description=value,
            category=CategoryFactory(owner=user, name=value),
            external_id=value,
            amount=Decimal("12.50"),
            type=TransactionType.EXPENSE if number % 2 else TransactionType.INCOME,
        )
        for number, value in enumerate(DANGEROUS)
    ]


class TestSpreadsheetText:
    @pytest.mark.parametrize("value", DANGEROUS)
    def test_a_formula_like_start_gets_one_quote(self, value):
        assert spreadsheet_text(value) == "'" + value

    @pytest.mark.parametrize("value", ["Salary", "2+3", " =x", "a=b", "e-mail", ""])
    def test_other_text_is_unchanged(self, value):
        assert spreadsheet_text(value) == value

    def test_none_is_empty(self):
        assert spreadsheet_text(None) == ""


def test_api_csv_export_neutralises_every_text_cell_and_keeps_amounts(auth_client, dangerous_rows):
    rows = csv_rows(auth_client.get(EXPORT, {"format": "csv"}))
    assert len(rows) == len(DANGEROUS)
    for row in rows:
        for column in ("description", "category", "external_id"):
            assert row[column].startswith("'"), row
        assert row["description"][1:] in DANGEROUS
        assert row["category"] == row["external_id"] == row["description"]
        assert row["amount"] in ("12.50", "-12.50")
        assert row["type"] in ("INCOME", "EXPENSE")
    assert {row["description"] for row in rows} == {"'" + value for value in DANGEROUS}


def test_admin_csv_export_neutralises_every_text_cell_and_keeps_amounts(
    client, user, dangerous_rows
):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    services.ledger_update(ledger=personal_ledger(user), actor=user, name="-household")
    services.account_update(account=main_account(user), actor=user, data={"name": "@main"})
    response = client.post(
        CHANGELIST,
        {"action": "export_csv", "_selected_action": [tx.pk for tx in dangerous_rows]},
    )
    rows = csv_rows(response)
    assert {row["description"] for row in rows} == {"'" + value for value in DANGEROUS}
    assert {row["category"] for row in rows} == {"'" + value for value in DANGEROUS}
    assert {(row["ledger"], row["account"]) for row in rows} == {("'-household", "'@main")}
    assert {row["amount"] for row in rows} == {"12.50", "-12.50"}


ROUND_TRIP = ["=1+2", "'quoted", "-2+3", "@SUM(A1)", "+cmd", "Tab\tinside", "plain"]


def test_export_then_import_gives_back_the_same_text(auth_client, user, upload):
    for number, value in enumerate(ROUND_TRIP):
        TransactionFactory(
            owner=user,
            description=value,
            category=CategoryFactory(owner=user, name=value),
            external_id=f"{value}-{number}",
            amount=Decimal("-3.50") if number % 2 else Decimal("3000"),
            type=TransactionType.EXPENSE if number % 2 else TransactionType.INCOME,
        )
    exported = text(auth_client.get(EXPORT, {"format": "csv"}))
    assert "'=1+2" in exported and "''quoted" in exported

    newcomer = UserFactory()
    auth_client.force_authenticate(newcomer)
    response = upload(auth_client, exported, name="transactions.csv")
    assert response.status_code == 202, response.content
    job = auth_client.get(reverse("api:import-detail", args=[response.json()["id"]])).json()
    assert (job["status"], job["created_count"], job["invalid_count"]) == ("succeeded", 7, 0)

    def rows_of(owner):
        return sorted(
            (t.date, t.type, t.description, t.amount, t.category.name, t.external_id)
            for t in Transaction.objects.filter(ledger__personal_for=owner).select_related(
                "category"
            )
        )

    assert rows_of(newcomer) == rows_of(user)
    restored = Transaction.objects.filter(account=main_account(newcomer))
    assert {t.description for t in restored} == set(ROUND_TRIP)


def test_the_header_of_an_export_is_recognised_case_and_spaces_aside(auth_client, user, upload):
    content = (
        " Date , TYPE,Description,amount,Category , External_ID\n"
        "2026-11-01,EXPENSE,'=1+2,-1.00,'@cat,'-ext\n"
    )
    response = upload(auth_client, content)
    assert response.status_code == 202, response.content
    tx = Transaction.objects.select_related("category").get(ledger__personal_for=user)
    assert (tx.description, tx.category.name, tx.external_id) == ("=1+2", "@cat", "-ext")


@pytest.mark.parametrize(
    "header",
    [
        "date,description,amount,category,external_id",  # another bank's order and columns
        "date,type,description,amount,category,external_id,note",
    ],
)
def test_a_csv_of_another_shape_keeps_its_quotes(auth_client, user, upload, header):
    values = {"date": "2026-11-01", "type": "EXPENSE", "description": "'=1+2", "amount": "-1"}
    values |= {"category": "'quoted", "external_id": "''ext", "note": ""}
    line = ",".join(values[name] for name in header.split(","))
    response = upload(auth_client, f"{header}\n{line}\n")
    assert response.status_code == 202, response.content
    tx = Transaction.objects.select_related("category").get(ledger__personal_for=user)
    assert (tx.description, tx.category.name, tx.external_id) == ("'=1+2", "'quoted", "''ext")


def test_a_quote_an_export_would_not_have_added_is_kept(auth_client, user, upload):
    content = "date,type,description,amount,category,external_id\n2026-11-01,,'90s party,-5,,\n"
    upload(auth_client, content)
    assert Transaction.objects.get(account=main_account(user)).description == "'90s party"
