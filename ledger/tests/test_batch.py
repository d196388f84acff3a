from decimal import Decimal

import pytest
from django.urls import reverse

from ledger.models import Transaction
from ledger.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db

BATCH = reverse("api:transaction-batch")


def row(**values):
    return {
        "type": "EXPENSE",
        "description": "coffee",
        "amount": "3.50",
        "date": "2026-11-01",
        **values,
    }


def test_all_rows_are_saved_together_with_a_result_each(auth_client, user, category):
    response = auth_client.post(
        BATCH,
        [
            row(),
            row(type="INCOME", description="salary", amount="3000", category=category.pk),
            row(amount="-7", external_id="bank-1"),
        ],
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["saved"], body["created"], body["duplicates"], body["invalid"]) == (True, 3, 0, 0)
    ids = [r["id"] for r in body["results"]]
    assert [r["status"] for r in body["results"]] == ["created"] * 3
    amounts = dict(Transaction.objects.filter(owner=user).values_list("id", "amount"))
    assert [amounts[i] for i in ids] == [Decimal("-3.50"), Decimal("3000.00"), Decimal("-7.00")]


def test_one_invalid_row_saves_nothing_and_names_its_index(auth_client):
    response = auth_client.post(BATCH, [row(), row(type="INCOME", amount="-5"), row(amount="x")])
    assert response.status_code == 400
    body = response.json()
    assert body["saved"] is False
    invalid = {r["index"]: r["errors"] for r in body["results"] if r["status"] == "invalid"}
    assert set(invalid) == {1, 2}
    assert "amount" in invalid[1] and "amount" in invalid[2]
    assert not Transaction.objects.exists()


def test_dry_run_reports_and_saves_nothing(auth_client):
    response = auth_client.post(f"{BATCH}?dry_run=true", [row(), row(description="tea")])
    assert response.status_code == 200
    assert response.json()["created"] == 2
    assert response.json()["saved"] is False
    assert not Transaction.objects.exists()


def test_known_external_ids_are_duplicates(auth_client):
    assert auth_client.post(BATCH, [row(external_id="a")]).status_code == 201
    response = auth_client.post(
        BATCH, [row(external_id="a"), row(external_id="b"), row(external_id="b")]
    )
    assert [r["status"] for r in response.json()["results"]] == [
        "duplicate",
        "created",
        "duplicate",
    ]
    assert Transaction.objects.count() == 2


@pytest.mark.parametrize("body", [{}, [], "x", [1, 2]])
def test_a_body_that_is_not_a_list_of_objects_is_400(auth_client, body):
    response = auth_client.post(BATCH, body)
    assert response.status_code == 400
    assert not Transaction.objects.exists()


def test_the_row_limit(auth_client, settings):
    settings.CASHMAN_BATCH_MAX_ROWS = 3
    assert auth_client.post(BATCH, [row()] * 4).status_code == 400
    assert auth_client.post(BATCH, [row()] * 3).status_code == 201


def test_another_users_category_is_an_invalid_row(auth_client, other_user):
    theirs = CategoryFactory(owner=other_user)
    response = auth_client.post(BATCH, [row(category=theirs.pk)])
    assert response.status_code == 400
    assert "category" in response.json()["results"][0]["errors"]


def test_batch_is_idempotent_with_a_key(auth_client):
    first = auth_client.post(BATCH, [row()], HTTP_IDEMPOTENCY_KEY="b1")
    again = auth_client.post(BATCH, [row()], HTTP_IDEMPOTENCY_KEY="b1")
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Transaction.objects.count() == 1


def test_expenses_batch_forces_the_type(auth_client):
    response = auth_client.post(reverse("api:expense-batch"), [row(type="INCOME", amount="4")])
    assert response.status_code == 201
    assert Transaction.objects.get().amount == Decimal("-4.00")


def test_batch_query_count_does_not_grow_with_rows(auth_client, django_assert_max_num_queries):
    # Whatever the number of rows; among them the one UPDATE raising the user's ledger generation.
    with django_assert_max_num_queries(13):
        response = auth_client.post(BATCH, [row(description=f"r{i}") for i in range(200)])
    assert response.json()["created"] == 200
