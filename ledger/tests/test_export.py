import csv
import io
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from conftest import bearer
from ledger.choices import TransactionType
from ledger.models import Transaction
from ledger.tests.factories import CategoryFactory, TransactionFactory

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


def test_export_query_count_is_fixed(auth_client, ledger_rows, django_assert_num_queries):
    with django_assert_num_queries(2):  # the user, and the rows
        body(auth_client.get(EXPORT))


def test_json_export_restores_into_a_new_account_with_equal_rows_and_summaries(
    auth_client, ledger_rows, django_capture_on_commit_callbacks
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
            for t in Transaction.objects.filter(owner=owner).select_related("category")
        )

    assert rows_of(newcomer) == rows_of(ledger_rows[0].owner)
