import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from ledger.choices import TransactionType
from ledger.models import Transaction
from ledger.tests.factories import CategoryFactory, main_account, personal_ledger

pytestmark = pytest.mark.django_db

INCOMES = reverse("api:income-list")
EXPENSES = reverse("api:expense-list")
TRANSACTIONS = reverse("api:transaction-list")


def tx_url(tx, kind="transaction") -> str:
    return reverse(f"api:{kind}-detail", args=[tx.pk])


def test_the_tutorial_session_works_with_a_token(auth_client, user):
    assert auth_client.get(INCOMES).json()["results"] == []

    created = auth_client.post(INCOMES, {"description": "lottery", "amount": 1000.0})
    assert created.status_code == 201
    assert created.json()["amount"] == "1000.00"
    assert created.json()["type"] == "INCOME"

    assert auth_client.get(EXPENSES).json()["results"] == []
    expense = auth_client.post(EXPENSES, {"amount": 20, "description": "lottery ticket"})
    assert expense.status_code == 201
    assert expense.json()["amount"] == "-20.00"
    assert expense.json()["type"] == "EXPENSE"

    incomes = auth_client.get(INCOMES).json()
    assert [row["description"] for row in incomes["results"]] == ["lottery"]
    mine = Transaction.objects.filter(ledger__personal_for=user, created_by=user)
    rows = {t.description: (t.type, t.amount) for t in mine}
    assert rows == {
        "lottery": ("INCOME", Decimal("1000.00")),
        "lottery ticket": ("EXPENSE", Decimal("-20.00")),
    }


class TestSignRule:
    @pytest.mark.parametrize("sent", [20, -20, "20", "-20", "20.00", 20.0])
    def test_an_expense_is_stored_negative_whatever_the_sign(self, auth_client, sent):
        response = auth_client.post(EXPENSES, {"description": "pizza", "amount": sent})
        assert response.status_code == 201
        assert response.json()["amount"] == "-20.00"
        assert Transaction.objects.get().amount == Decimal("-20.00")

    @pytest.mark.parametrize("sent", [0, "0.00", -5, "-0.01"])
    def test_an_income_must_be_positive(self, auth_client, sent):
        response = auth_client.post(INCOMES, {"description": "salary", "amount": sent})
        assert response.status_code == 400
        assert "amount" in response.json()
        assert not Transaction.objects.exists()

    def test_a_zero_expense_is_refused(self, auth_client):
        response = auth_client.post(EXPENSES, {"description": "nothing", "amount": "0"})
        assert response.status_code == 400
        assert "amount" in response.json()

    def test_transactions_endpoint_needs_a_type_and_applies_the_rule(self, auth_client):
        missing = auth_client.post(TRANSACTIONS, {"description": "x", "amount": 5})
        assert missing.status_code == 400
        assert "type" in missing.json()
        wrong = auth_client.post(
            TRANSACTIONS, {"type": "TransactionType.INCOME", "description": "x", "amount": 5}
        )
        assert wrong.status_code == 400
        ok = auth_client.post(TRANSACTIONS, {"type": "EXPENSE", "description": "x", "amount": 5})
        assert ok.status_code == 201
        assert ok.json()["amount"] == "-5.00"

    def test_changing_the_type_reapplies_the_rule(self, auth_client, make_tx):
        tx = make_tx(type=TransactionType.EXPENSE, amount=Decimal("50"))
        response = auth_client.patch(tx_url(tx), {"type": "INCOME"})
        assert response.status_code == 200
        assert response.json()["amount"] == "50.00"
        tx.refresh_from_db()
        assert (tx.type, tx.amount) == ("INCOME", Decimal("50.00"))

        response = auth_client.patch(tx_url(tx), {"type": "EXPENSE"})
        assert response.json()["amount"] == "-50.00"

    def test_changing_the_type_with_a_negative_income_is_refused(self, auth_client, make_tx):
        tx = make_tx(type=TransactionType.EXPENSE, amount=Decimal("50"))
        response = auth_client.patch(tx_url(tx), {"type": "INCOME", "amount": "-3"})
        assert response.status_code == 400
        tx.refresh_from_db()
        assert (tx.type, tx.amount) == ("EXPENSE", Decimal("-50.00"))

    def test_updating_an_expense_amount_keeps_it_negative(self, auth_client, make_tx):
        tx = make_tx(type=TransactionType.EXPENSE, amount=Decimal("5"))
        response = auth_client.patch(tx_url(tx, "expense"), {"amount": "7.5"})
        assert response.status_code == 200
        assert response.json()["amount"] == "-7.50"


class TestAmounts:
    @pytest.mark.parametrize(
        "sent",
        [
            "1.005",
            1.005,
            "NaN",
            "Infinity",
            "-Infinity",
            "abc",
            "",
            None,
            "1e400",
            "1000000000000.00",
            [],
            {},
        ],
    )
    def test_bad_amounts_are_400_naming_the_field_and_nothing_is_rounded(self, auth_client, sent):
        response = auth_client.post(EXPENSES, {"description": "x", "amount": sent})
        assert response.status_code == 400
        assert "amount" in response.json()
        assert not Transaction.objects.exists()

    def test_literal_nan_in_json_is_a_400_json_error(self, auth_client):
        response = auth_client.generic(
            "POST", EXPENSES, '{"description": "x", "amount": NaN}', content_type="application/json"
        )
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        assert not Transaction.objects.exists()

    def test_the_largest_amount_round_trips(self, auth_client):
        response = auth_client.post(INCOMES, {"description": "big", "amount": "999999999999.99"})
        assert response.status_code == 201
        assert response.json()["amount"] == "999999999999.99"

    def test_amounts_are_strings_with_two_places(self, auth_client, make_tx):
        make_tx(type=TransactionType.INCOME, amount=Decimal("1000"))
        row = auth_client.get(INCOMES).json()["results"][0]
        assert row["amount"] == "1000.00"


class TestCreateAndEdit:
    def test_create_answers_201_with_the_object(self, auth_client, user, category):
        response = auth_client.post(
            EXPENSES,
            {
                "description": "  groceries  ",
                "amount": "12.34",
                "date": "2026-10-05",
                "category": category.pk,
            },
        )
        assert response.status_code == 201
        body = response.json()
        tx = Transaction.objects.get(pk=body["id"])
        assert body == {
            "id": tx.pk,
            "type": "EXPENSE",
            "description": "groceries",
            "amount": "-12.34",
            "date": "2026-10-05",
            "category": category.pk,
            "category_name": "Food",
            "account": main_account(user).pk,
            "ledger": personal_ledger(user).pk,
            "status": "pending",
            "transfer": None,
            "schedule": None,
            "occurrence_date": None,
            "created_at": body["created_at"],
            "updated_at": body["updated_at"],
        }
        assert (tx.created_by, tx.account, tx.ledger) == (
            user,
            main_account(user),
            personal_ledger(user),
        )

    def test_owner_id_and_timestamps_in_the_body_are_ignored(self, auth_client, user, other_user):
        response = auth_client.post(
            EXPENSES,
            {
                "description": "x",
                "amount": 1,
                "owner": other_user.pk,
                "created_by": other_user.pk,
                "ledger": personal_ledger(other_user).pk,
                "transfer": 4242,
                "id": 4242,
                "created_at": "2000-01-01T00:00:00Z",
                "type": "INCOME",
            },
        )
        assert response.status_code == 201
        tx = Transaction.objects.get()
        assert (tx.created_by, tx.ledger, tx.account) == (
            user,
            personal_ledger(user),
            main_account(user),
        )
        assert tx.transfer is None
        assert response.json()["id"] == tx.pk
        assert tx.created_at.year != 2000
        assert tx.type == "EXPENSE"

    @pytest.mark.parametrize("description", ["", "   ", "x" * 256])
    def test_description_must_be_1_to_255_characters(self, auth_client, description):
        response = auth_client.post(EXPENSES, {"description": description, "amount": 1})
        assert response.status_code == 400
        assert "description" in response.json()

    def test_another_users_category_is_400(self, auth_client, other_user):
        theirs = CategoryFactory(owner=other_user)
        response = auth_client.post(
            EXPENSES, {"description": "x", "amount": 1, "category": theirs.pk}
        )
        assert response.status_code == 400
        assert "category" in response.json()
        assert not Transaction.objects.exists()

    def test_put_replaces_and_patch_edits(self, auth_client, make_tx, category):
        tx = make_tx(description="old", amount=Decimal("1"))
        put = auth_client.put(
            tx_url(tx),
            {
                "type": "INCOME",
                "description": "new",
                "amount": "3.00",
                "date": "2026-01-02",
                "category": category.pk,
            },
        )
        assert put.status_code == 200
        tx.refresh_from_db()
        assert (tx.type, tx.description, tx.amount, tx.date, tx.category) == (
            "INCOME",
            "new",
            Decimal("3.00"),
            datetime.date(2026, 1, 2),
            category,
        )
        patch = auth_client.patch(tx_url(tx), {"category": None})
        assert patch.status_code == 200
        tx.refresh_from_db()
        assert tx.category is None

    def test_an_income_is_not_reachable_through_expenses(self, auth_client, make_tx):
        income = make_tx(type=TransactionType.INCOME)
        assert auth_client.get(tx_url(income, "expense")).status_code == 404
        assert auth_client.get(tx_url(income, "income")).status_code == 200

    def test_delete_answers_204(self, auth_client, make_tx):
        tx = make_tx()
        response = auth_client.delete(tx_url(tx, "expense"))
        assert response.status_code == 204
        assert not Transaction.objects.exists()

    def test_unknown_id_is_404_json(self, auth_client):
        response = auth_client.get(reverse("api:transaction-detail", args=[987654]))
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert "detail" in response.json()

    def test_form_data_works_too(self, auth_client):
        response = auth_client.post(
            EXPENSES, {"description": "form", "amount": "4"}, format="multipart"
        )
        assert response.status_code == 201
        assert response.json()["amount"] == "-4.00"


class TestListing:
    def test_default_order_is_newest_date_then_newest_id(self, auth_client, make_tx):
        old = make_tx(date=datetime.date(2026, 1, 1))
        first_same_day = make_tx(date=datetime.date(2026, 5, 1))
        second_same_day = make_tx(date=datetime.date(2026, 5, 1))
        ids = [row["id"] for row in auth_client.get(TRANSACTIONS).json()["results"]]
        assert ids == [second_same_day.pk, first_same_day.pk, old.pk]

    def test_pagination_shape_and_page_size(self, auth_client, make_tx):
        for _ in range(5):
            make_tx()
        body = auth_client.get(TRANSACTIONS, {"page_size": 2, "page": 2}).json()
        assert body["count"] == 5
        assert len(body["results"]) == 2
        assert "page=3" in body["next"]
        assert "page_size=2" in body["previous"]

    def test_page_size_is_capped(self, auth_client, make_tx, settings):
        settings.MAX_PAGE_SIZE = 3
        for _ in range(5):
            make_tx()
        assert len(auth_client.get(TRANSACTIONS, {"page_size": 1000}).json()["results"]) == 3

    def test_a_page_past_the_end_is_404_json(self, auth_client):
        response = auth_client.get(TRANSACTIONS, {"page": 99})
        assert response.status_code == 404
        assert "detail" in response.json()

    @pytest.mark.parametrize(
        ("ordering", "expected"),
        [
            ("amount", ["big expense", "small expense", "income"]),
            ("-amount", ["income", "small expense", "big expense"]),
            ("date", ["small expense", "income", "big expense"]),
        ],
    )
    def test_ordering(self, auth_client, make_tx, ordering, expected):
        make_tx(description="small expense", amount=Decimal("1"), date=datetime.date(2026, 1, 1))
        make_tx(description="big expense", amount=Decimal("100"), date=datetime.date(2026, 3, 1))
        make_tx(
            description="income",
            type=TransactionType.INCOME,
            amount=Decimal("5"),
            date=datetime.date(2026, 2, 1),
        )
        rows = auth_client.get(TRANSACTIONS, {"ordering": ordering}).json()["results"]
        assert [row["description"] for row in rows] == expected

    def test_ordering_on_an_unknown_field_is_ignored(self, auth_client, make_tx):
        make_tx()
        response = auth_client.get(TRANSACTIONS, {"ordering": "owner__password"})
        assert response.status_code == 200

    @pytest.mark.parametrize("page_size", [1, 20, 100])
    def test_list_runs_a_fixed_number_of_queries(
        self, auth_client, make_tx, category, page_size, django_assert_num_queries
    ):
        for i in range(100):
            make_tx(category=category if i % 2 else None)
        # The user behind the token, their memberships (once per request: the scope's ledgers),
        # the COUNT and the page (categories joined in).
        with django_assert_num_queries(4):
            response = auth_client.get(TRANSACTIONS, {"page_size": page_size})
        assert len(response.json()["results"]) == page_size


@pytest.mark.parametrize("with_category", [False, True])
def test_a_partial_updates_answer_has_every_field(auth_client, user, make_tx, with_category):
    """DRF leaves a field's default out of a partial update's answer; `category_name` is there,
    null or the name, whatever the request changed."""
    from ledger.tests.factories import CategoryFactory

    category = CategoryFactory(owner=user, name="Food") if with_category else None
    tx = make_tx(category=category)
    answer = auth_client.patch(f"{EXPENSES}{tx.pk}/", {}, format="json")
    assert answer.status_code == 200
    assert answer.json()["category_name"] == ("Food" if with_category else None)
    assert set(answer.json()) == set(auth_client.get(f"{EXPENSES}{tx.pk}/").json())
