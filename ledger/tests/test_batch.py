from decimal import Decimal

import pytest
from django.urls import reverse

from ledger.choices import Role
from ledger.models import Transaction
from ledger.tests.factories import (
    AccountFactory,
    CategoryFactory,
    SharedLedgerFactory,
    TransactionFactory,
    add_member,
    main_account,
)

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
    amounts = dict(
        Transaction.objects.filter(account=main_account(user)).values_list("id", "amount")
    )
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
    # Whatever the number of rows: the user, the default account, the user's roles, the one
    # UPDATE raising the ledger's members' generation, and the inserts (COPY on PostgreSQL; on
    # SQLite, its bound-parameter limit splits 200 rows into four or five INSERTs a table).
    with django_assert_max_num_queries(17):
        response = auth_client.post(BATCH, [row(description=f"r{i}") for i in range(200)])
    assert response.json()["created"] == 200


class TestAccounts:
    def test_rows_go_into_the_accounts_they_name_and_the_default_one_otherwise(
        self, auth_client, user, django_assert_max_num_queries
    ):
        savings = AccountFactory(owner=user, name="Savings")
        household = SharedLedgerFactory(owner=user)
        joint = household.accounts.get()
        rows = [
            row(description="coffee"),
            row(description="deposit", type="INCOME", amount="100", account=savings.pk),
            row(description="rent", amount="900", account=joint.pk),
            row(description="tea", account=savings.pk),
        ]
        response = auth_client.post(BATCH, rows)
        assert response.status_code == 201, response.content
        placed = dict(Transaction.objects.values_list("description", "account_id"))
        assert placed == {
            "coffee": main_account(user).pk,
            "deposit": savings.pk,
            "rent": joint.pk,
            "tea": savings.pk,
        }
        rent = Transaction.objects.get(description="rent")
        assert (rent.ledger_id, rent.created_by_id, rent.status) == (
            household.pk,
            user.pk,
            "pending",
        )

    def test_external_ids_are_unique_per_account_not_per_user(self, auth_client, user):
        savings = AccountFactory(owner=user, name="Savings")
        TransactionFactory(owner=user, external_id="bank-1")
        response = auth_client.post(
            BATCH,
            [row(external_id="bank-1"), row(external_id="bank-1", account=savings.pk)],
        )
        assert [r["status"] for r in response.json()["results"]] == ["duplicate", "created"]
        assert Transaction.objects.filter(account=savings).count() == 1

    def test_a_viewers_batch_is_403_and_saves_nothing(self, auth_client, user, other_user):
        household = SharedLedgerFactory(owner=other_user)
        add_member(household, user, Role.VIEWER)
        theirs = household.accounts.get()
        response = auth_client.post(BATCH, [row(), row(account=theirs.pk)])
        assert response.status_code == 403
        assert not Transaction.objects.exists()

    def test_an_editor_writes_into_the_shared_ledger(self, auth_client, user, other_user):
        household = SharedLedgerFactory(owner=other_user)
        add_member(household, user, Role.EDITOR)
        response = auth_client.post(BATCH, [row(account=household.accounts.get().pk)])
        assert response.status_code == 201, response.content
        assert Transaction.objects.get().ledger_id == household.pk

    def test_an_account_of_a_ledger_one_is_not_in_is_an_invalid_row(self, auth_client, other_user):
        response = auth_client.post(BATCH, [row(account=main_account(other_user).pk)])
        assert response.status_code == 400
        assert "account" in response.json()["results"][0]["errors"]
        assert not Transaction.objects.exists()

    def test_an_archived_account_is_an_invalid_row(self, auth_client, user):
        closed = AccountFactory(owner=user, name="Closed", archived=True)
        response = auth_client.post(BATCH, [row(), row(account=closed.pk)])
        assert response.status_code == 400
        results = response.json()["results"]
        assert results[0]["status"] == "created" and results[1]["status"] == "invalid"
        assert "archived" in results[1]["errors"]["account"][0]
        assert not Transaction.objects.exists()

    def test_a_transfer_row_is_invalid(self, auth_client, user):
        response = auth_client.post(BATCH, [row(type="TRANSFER", amount="-5")])
        assert response.status_code == 400
        assert "transfers/" in response.json()["results"][0]["errors"]["type"][0]
        assert not Transaction.objects.exists()

    def test_a_category_of_another_ledger_is_an_invalid_row(self, auth_client, user):
        household = SharedLedgerFactory(owner=user)
        theirs = CategoryFactory(ledger=household)
        response = auth_client.post(BATCH, [row(category=theirs.pk)])
        assert response.status_code == 400
        assert "category" in response.json()["results"][0]["errors"]
