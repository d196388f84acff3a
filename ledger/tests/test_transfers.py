"""Transfers over the API (issue 22): two legs of type TRANSFER written, changed and deleted
together, possibly across ledgers; their effect on balances and summaries; ETags and history."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledger.choices import Role, TransactionStatus, TransactionType
from ledger.models import Transaction, Transfer
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

TRANSFERS = reverse("api:transfer-list")
TRANSACTIONS = reverse("api:transaction-list")
INCOMES = reverse("api:income-list")
EXPENSES = reverse("api:expense-list")
SUMMARY = reverse("api:summary-list")
MONTHLY = reverse("api:summary-monthly")
BY_CATEGORY = reverse("api:summary-by-category")
TRANSFER = TransactionType.TRANSFER
MARCH = datetime.date(2026, 3, 10)


def detail(transfer_id) -> str:
    return reverse("api:transfer-detail", args=[transfer_id])


def tx_url(tx_id) -> str:
    return reverse("api:transaction-detail", args=[tx_id])


def account_url(account) -> str:
    return reverse("api:account-detail", args=[account.pk])


def results(response) -> list:
    body = response.json()
    return body["results"] if isinstance(body, dict) else body


def balance(client, account) -> str:
    response = client.get(account_url(account))
    assert response.status_code == 200, response.content
    return response.json()["balance"]


def legs(transfer_id) -> tuple[Transaction, Transaction]:
    out, into = Transaction.objects.filter(transfer_id=transfer_id).order_by("amount")
    return out, into


@pytest.fixture
def savings(user):
    return AccountFactory(owner=user, name="Savings")


@pytest.fixture
def post_transfer(auth_client, user, savings):
    """POST a transfer of `amount` from the user's Main to their Savings (by default)."""

    def post(amount="25.00", *, client=None, **body):
        headers = {key: body.pop(key) for key in list(body) if key.startswith("HTTP_")}
        body.setdefault("from_account", main_account(user).pk)
        body.setdefault("to_account", savings.pk)
        body.setdefault("date", MARCH.isoformat())
        body.setdefault("description", "To savings")
        return (client or auth_client).post(
            TRANSFERS, {"amount": amount, **body}, format="json", **headers
        )

    return post


@pytest.fixture
def made(post_transfer):
    response = post_transfer()
    assert response.status_code == 201, response.content
    return response.json()


# --- Create ------------------------------------------------------------------------------------


class TestCreate:
    def test_two_legs(self, auth_client, user, savings, post_transfer):
        response = post_transfer("25.00")
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["from_account"] == main_account(user).pk
        assert body["to_account"] == savings.pk
        assert body["amount"] == "25.00"
        assert body["date"] == "2026-03-10"
        assert body["description"] == "To savings"
        out, into = legs(body["id"])
        assert (body["from_transaction"], body["to_transaction"]) == (out.pk, into.pk)
        assert out.type == into.type == TRANSFER
        assert (out.account_id, out.amount) == (main_account(user).pk, Decimal("-25.00"))
        assert (into.account_id, into.amount) == (savings.pk, Decimal("25.00"))
        assert out.date == into.date == MARCH
        assert out.description == into.description == "To savings"
        assert out.created_by_id == into.created_by_id == user.pk
        listed = {
            row["id"]: row for row in results(auth_client.get(TRANSACTIONS, {"type": TRANSFER}))
        }
        assert set(listed) == {out.pk, into.pk}
        assert listed[out.pk]["transfer"] == listed[into.pk]["transfer"] == body["id"]
        assert listed[out.pk]["amount"] == "-25.00"
        assert listed[into.pk]["amount"] == "25.00"
        assert listed[out.pk]["type"] == listed[into.pk]["type"] == TRANSFER
        assert listed[into.pk]["ledger"] == personal_ledger(user).pk
        assert auth_client.get(detail(body["id"])).json() == body

    def test_date_defaults_to_today(self, user, savings):
        with time_machine.travel(datetime.datetime(2026, 5, 17, 12, tzinfo=datetime.UTC)):
            response = client_for(user).post(
                TRANSFERS,
                {"from_account": main_account(user).pk, "to_account": savings.pk, "amount": "1"},
                format="json",
            )
        assert response.status_code == 201, response.content
        assert response.json()["date"] == "2026-05-17"
        assert response.json()["description"] == "Transfer"
        out, into = legs(response.json()["id"])
        assert out.date == into.date == datetime.date(2026, 5, 17)

    @pytest.mark.parametrize("amount", ["0", "0.00", "-5.00", "0.001"])
    def test_amount_must_be_positive(self, post_transfer, amount):
        response = post_transfer(amount)
        assert response.status_code == 400
        assert "amount" in response.json()
        assert not Transfer.objects.exists()
        assert not Transaction.objects.filter(type=TRANSFER).exists()

    def test_same_account_twice_is_400(self, user, post_transfer):
        response = post_transfer(to_account=main_account(user).pk)
        assert response.status_code == 400
        assert not Transaction.objects.filter(type=TRANSFER).exists()

    @pytest.mark.parametrize("side", ["from_account", "to_account"])
    def test_account_of_a_ledger_not_yours_is_400(self, other_user, post_transfer, side):
        response = post_transfer(**{side: main_account(other_user).pk})
        assert response.status_code == 400
        assert side in response.json()
        assert not Transaction.objects.filter(type=TRANSFER).exists()
        assert not Transfer.objects.exists()

    def test_archived_account_is_400(self, savings, post_transfer, auth_client):
        auth_client.patch(account_url(savings), {"archived": True}, format="json")
        response = post_transfer()
        assert response.status_code == 400
        assert not Transfer.objects.exists()

    def test_across_ledgers_the_user_writes(self, auth_client, user, other_user, post_transfer):
        shared = SharedLedgerFactory(owner=other_user)
        add_member(shared, user, Role.EDITOR)
        joint = main_account_of(shared)
        response = post_transfer("40.00", to_account=joint.pk)
        assert response.status_code == 201, response.content
        out, into = legs(response.json()["id"])
        assert (out.ledger_id, out.amount) == (personal_ledger(user).pk, Decimal("-40.00"))
        assert (into.ledger_id, into.account_id, into.amount) == (
            shared.pk,
            joint.pk,
            Decimal("40.00"),
        )
        # The owner of the shared ledger sees the leg that arrived, not the other.
        other = client_for(other_user)
        seen = {row["id"] for row in results(other.get(TRANSACTIONS, {"type": TRANSFER}))}
        assert seen == {into.pk}
        assert other.get(detail(response.json()["id"])).status_code == 404

    def test_viewer_of_the_destination_is_403_and_nothing_is_written(
        self, user, other_user, post_transfer
    ):
        shared = SharedLedgerFactory(owner=other_user)
        add_member(shared, user, Role.VIEWER)
        before = Transaction.objects.count()
        response = post_transfer(to_account=main_account_of(shared).pk)
        assert response.status_code == 403
        assert Transaction.objects.count() == before
        assert not Transfer.objects.exists()

    def test_viewer_of_the_source_is_403(self, user, other_user, post_transfer):
        shared = SharedLedgerFactory(owner=other_user)
        add_member(shared, user, Role.VIEWER)
        response = post_transfer(from_account=main_account_of(shared).pk)
        assert response.status_code == 403
        assert not Transfer.objects.exists()

    def test_type_transfer_through_transactions_is_400(self, auth_client):
        response = auth_client.post(
            TRANSACTIONS,
            {"type": TRANSFER, "description": "sneaky", "amount": "5.00", "date": "2026-03-01"},
            format="json",
        )
        assert response.status_code == 400
        assert "type" in response.json()
        assert not Transaction.objects.filter(description="sneaky").exists()

    def test_a_transaction_cannot_become_a_transfer(self, auth_client, user):
        row = TransactionFactory(owner=user)
        response = auth_client.patch(tx_url(row.pk), {"type": TRANSFER}, format="json")
        assert response.status_code == 400
        row.refresh_from_db()
        assert row.type == TransactionType.EXPENSE

    def test_idempotent_create(self, post_transfer):
        first = post_transfer(HTTP_IDEMPOTENCY_KEY="transfer-1")
        again = post_transfer(HTTP_IDEMPOTENCY_KEY="transfer-1")
        assert first.status_code == again.status_code == 201
        assert first.json() == again.json()
        assert Transfer.objects.count() == 1
        assert Transaction.objects.filter(type=TRANSFER).count() == 2


def main_account_of(ledger):
    return ledger.accounts.get(name="Main")


def client_for(user):
    from rest_framework.test import APIClient

    from conftest import bearer

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user))
    return client


# --- Change and delete -------------------------------------------------------------------------


class TestChange:
    def test_patch_amount_date_description_changes_both_legs(self, auth_client, made):
        response = auth_client.patch(
            detail(made["id"]),
            {"amount": "30.50", "date": "2026-03-12", "description": "More savings"},
            format="json",
        )
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["amount"], body["date"], body["description"]) == (
            "30.50",
            "2026-03-12",
            "More savings",
        )
        out, into = legs(made["id"])
        assert (out.amount, into.amount) == (Decimal("-30.50"), Decimal("30.50"))
        assert out.date == into.date == datetime.date(2026, 3, 12)
        assert out.description == into.description == "More savings"

    def test_patch_accounts(self, auth_client, user, made):
        third = AccountFactory(owner=user, name="Cash")
        response = auth_client.patch(detail(made["id"]), {"to_account": third.pk}, format="json")
        assert response.status_code == 200, response.content
        out, into = legs(made["id"])
        assert into.account_id == third.pk
        assert out.account_id == main_account(user).pk
        same = auth_client.patch(detail(made["id"]), {"from_account": third.pk}, format="json")
        assert same.status_code == 400

    def test_put_replaces_the_transfer(self, auth_client, user, made):
        cash = AccountFactory(owner=user, name="Cash")
        response = auth_client.put(
            detail(made["id"]),
            {
                "from_account": cash.pk,
                "to_account": made["to_account"],
                "amount": "7.77",
                "date": "2026-03-02",
                "description": "From the wallet",
            },
            format="json",
        )
        assert response.status_code == 200, response.content
        out, into = legs(made["id"])
        assert (out.account_id, out.amount, out.description) == (
            cash.pk,
            Decimal("-7.77"),
            "From the wallet",
        )
        assert (into.account_id, into.amount, into.date) == (
            made["to_account"],
            Decimal("7.77"),
            datetime.date(2026, 3, 2),
        )

    def test_move_a_leg_into_another_ledger(self, auth_client, user, other_user, made):
        shared = SharedLedgerFactory(owner=other_user)
        add_member(shared, user, Role.EDITOR)
        joint = main_account_of(shared)
        response = auth_client.patch(detail(made["id"]), {"to_account": joint.pk}, format="json")
        assert response.status_code == 200, response.content
        _, into = legs(made["id"])
        assert (into.account_id, into.ledger_id) == (joint.pk, shared.pk)
        owner = client_for(other_user)
        assert balance(owner, joint) == "25.00"

    def test_a_leg_moved_into_another_ledger_leaves_its_category_behind(
        self, auth_client, user, other_user, made
    ):
        shared = SharedLedgerFactory(owner=other_user)
        add_member(shared, user, Role.EDITOR)
        joint, theirs = main_account_of(shared), CategoryFactory(ledger=shared, name="Pot")
        mine = CategoryFactory(owner=user, name="Saving")
        leg = tx_url(made["to_transaction"])
        assert auth_client.patch(leg, {"category": mine.pk}, format="json").status_code == 200
        # Through the transfer: the leg's category is its old ledger's, so it goes.
        response = auth_client.patch(detail(made["id"]), {"to_account": joint.pk}, format="json")
        assert response.status_code == 200, response.content
        assert legs(made["id"])[1].category_id is None
        # Through the leg, with a category of the new ledger in the same request.
        back = {"account": made["to_account"]}
        assert auth_client.patch(leg, back, format="json").status_code == 200
        assert auth_client.patch(leg, {"category": mine.pk}, format="json").status_code == 200
        response = auth_client.patch(
            leg, {"account": joint.pk, "category": theirs.pk}, format="json"
        )
        assert response.status_code == 200, response.content
        _, into = legs(made["id"])
        assert (into.ledger_id, into.category_id) == (shared.pk, theirs.pk)

    def test_move_a_leg_into_a_ledger_the_user_views_is_403(
        self, auth_client, user, other_user, made
    ):
        shared = SharedLedgerFactory(owner=other_user)
        add_member(shared, user, Role.VIEWER)
        joint = main_account_of(shared)
        response = auth_client.patch(detail(made["id"]), {"to_account": joint.pk}, format="json")
        assert response.status_code == 403
        through_leg = auth_client.patch(
            tx_url(made["to_transaction"]), {"account": joint.pk}, format="json"
        )
        assert through_leg.status_code == 403
        _, into = legs(made["id"])
        assert (into.account_id, into.ledger_id) == (made["to_account"], personal_ledger(user).pk)

    def test_patch_amount_to_zero_is_400(self, auth_client, made):
        response = auth_client.patch(detail(made["id"]), {"amount": "0"}, format="json")
        assert response.status_code == 400
        _out, into = legs(made["id"])
        assert into.amount == Decimal("25.00")

    def test_patch_one_legs_amount_changes_both(self, auth_client, made):
        response = auth_client.patch(
            tx_url(made["to_transaction"]), {"amount": "60.00"}, format="json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["amount"] == "60.00"
        out, into = legs(made["id"])
        assert (out.amount, into.amount) == (Decimal("-60.00"), Decimal("60.00"))
        # Through the leaving leg, whatever sign is sent, the leg stays negative.
        response = auth_client.patch(
            tx_url(made["from_transaction"]), {"amount": "-12.00"}, format="json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["amount"] == "-12.00"
        out, into = legs(made["id"])
        assert (out.amount, into.amount) == (Decimal("-12.00"), Decimal("12.00"))
        assert auth_client.get(detail(made["id"])).json()["amount"] == "12.00"

    def test_patch_one_legs_date_and_description_changes_both(self, auth_client, made):
        response = auth_client.patch(
            tx_url(made["from_transaction"]),
            {"date": "2026-03-20", "description": "Moved"},
            format="json",
        )
        assert response.status_code == 200, response.content
        out, into = legs(made["id"])
        assert out.date == into.date == datetime.date(2026, 3, 20)
        assert out.description == into.description == "Moved"

    def test_a_legs_category_and_status_are_its_own(self, auth_client, user, made):
        category = CategoryFactory(owner=user, name="Saving")
        response = auth_client.patch(
            tx_url(made["from_transaction"]),
            {"category": category.pk, "status": TransactionStatus.CLEARED},
            format="json",
        )
        assert response.status_code == 200, response.content
        out, into = legs(made["id"])
        assert (out.category_id, out.status) == (category.pk, TransactionStatus.CLEARED)
        assert (into.category_id, into.status) == (None, TransactionStatus.PENDING)

    def test_a_leg_cannot_change_type(self, auth_client, made):
        response = auth_client.patch(
            tx_url(made["from_transaction"]), {"type": "EXPENSE"}, format="json"
        )
        assert response.status_code == 400
        out, _ = legs(made["id"])
        assert out.type == TRANSFER

    def test_viewer_cannot_change_or_delete(self, user, other_user):
        shared = SharedLedgerFactory(owner=other_user)
        add_member(shared, user, Role.VIEWER)
        second = AccountFactory(ledger=shared, name="Second")
        owner = client_for(other_user)
        made = owner.post(
            TRANSFERS,
            {
                "from_account": main_account_of(shared).pk,
                "to_account": second.pk,
                "amount": "8.00",
                "date": "2026-03-01",
            },
            format="json",
        ).json()
        viewer = client_for(user)
        assert viewer.get(detail(made["id"])).status_code == 200
        patched = viewer.patch(detail(made["id"]), {"amount": "9.00"}, format="json")
        assert patched.status_code == 403
        leg = viewer.patch(tx_url(made["to_transaction"]), {"amount": "9.00"}, format="json")
        assert leg.status_code == 403
        assert viewer.delete(detail(made["id"])).status_code == 403
        assert viewer.delete(tx_url(made["from_transaction"])).status_code == 403
        _out, into = legs(made["id"])
        assert into.amount == Decimal("8.00")

    def test_another_users_transfer_is_404(self, other_client, made):
        assert other_client.get(detail(made["id"])).status_code == 404
        assert (
            other_client.patch(detail(made["id"]), {"amount": "1.00"}, format="json").status_code
            == 404
        )
        assert other_client.delete(detail(made["id"])).status_code == 404
        assert other_client.delete(tx_url(made["from_transaction"])).status_code == 404
        assert Transaction.objects.filter(transfer_id=made["id"]).count() == 2


class TestDelete:
    def test_delete_through_transfers_removes_both_legs(self, auth_client, made):
        assert auth_client.delete(detail(made["id"])).status_code == 204
        assert not Transaction.objects.filter(
            pk__in=[made["from_transaction"], made["to_transaction"]]
        ).exists()
        assert not Transfer.objects.filter(pk=made["id"]).exists()
        assert auth_client.get(detail(made["id"])).status_code == 404

    @pytest.mark.parametrize("leg", ["from_transaction", "to_transaction"])
    def test_delete_one_leg_removes_both(self, auth_client, made, leg):
        assert auth_client.delete(tx_url(made[leg])).status_code == 204
        assert not Transaction.objects.filter(
            pk__in=[made["from_transaction"], made["to_transaction"]]
        ).exists()
        assert not Transfer.objects.filter(pk=made["id"]).exists()

    def test_a_reconciled_leg_keeps_the_transfer(self, auth_client, user, made):
        auth_client.patch(
            tx_url(made["to_transaction"]), {"status": TransactionStatus.CLEARED}, format="json"
        )
        savings = Transaction.objects.get(pk=made["to_transaction"]).account
        reconciled = auth_client.post(
            reverse("api:account-reconcile", args=[savings.pk]),
            {"statement_date": "2026-03-31", "statement_balance": "25.00"},
            format="json",
        )
        assert reconciled.status_code == 200, reconciled.content
        assert auth_client.delete(detail(made["id"])).status_code == 409
        assert auth_client.delete(tx_url(made["from_transaction"])).status_code == 409
        changed = auth_client.patch(detail(made["id"]), {"amount": "1.00"}, format="json")
        assert changed.status_code == 409
        assert "amount" in changed.json()["detail"]
        described = auth_client.patch(detail(made["id"]), {"description": "Renamed"}, format="json")
        assert described.status_code == 200, described.content
        assert Transaction.objects.filter(transfer_id=made["id"]).count() == 2


class TestList:
    def test_list_shows_the_users_transfers_only(self, auth_client, other_client, made):
        assert [row["id"] for row in results(auth_client.get(TRANSFERS))] == [made["id"]]
        assert results(other_client.get(TRANSFERS)) == []

    def test_query_count_does_not_grow(self, auth_client, post_transfer):
        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                response = auth_client.get(TRANSFERS)
            assert response.status_code == 200
            return len(captured.captured_queries)

        for _ in range(2):
            assert post_transfer().status_code == 201
        few = queries()
        for _ in range(6):
            assert post_transfer().status_code == 201
        many = queries()
        assert len(results(auth_client.get(TRANSFERS))) == 8
        assert many <= few


# --- Balances and summaries --------------------------------------------------------------------


class TestEffects:
    def test_balances_of_both_accounts_move(self, auth_client, user, savings, post_transfer):
        TransactionFactory(owner=user, type=TransactionType.INCOME, amount=Decimal("100.00"))
        assert balance(auth_client, main_account(user)) == "100.00"
        made = post_transfer("25.10").json()
        assert balance(auth_client, main_account(user)) == "74.90"
        assert balance(auth_client, savings) == "25.10"
        auth_client.patch(detail(made["id"]), {"amount": "0.30"}, format="json")
        assert balance(auth_client, main_account(user)) == "99.70"
        assert balance(auth_client, savings) == "0.30"
        auth_client.delete(detail(made["id"]))
        assert balance(auth_client, main_account(user)) == "100.00"
        assert balance(auth_client, savings) == "0.00"

    def test_summary_counts_transfers_apart(self, auth_client, user, post_transfer):
        TransactionFactory(
            owner=user, type=TransactionType.INCOME, amount=Decimal("100.00"), date=MARCH
        )
        TransactionFactory(owner=user, amount=Decimal("30.00"), date=MARCH)
        before = auth_client.get(SUMMARY).json()
        assert post_transfer("25.00").status_code == 201
        after = auth_client.get(SUMMARY).json()
        for key in ("income", "expense", "balance"):
            assert after[key] == before[key]
        assert (after["income"], after["expense"], after["balance"]) == (
            "100.00",
            "-30.00",
            "70.00",
        )
        assert after["transfers_in"] == "25.00"
        assert after["transfers_out"] == "-25.00"
        assert after["count"] == before["count"] + 2

    def test_summary_of_one_ledger_sees_one_side(
        self, auth_client, user, other_user, post_transfer
    ):
        shared = SharedLedgerFactory(owner=other_user)
        add_member(shared, user, Role.EDITOR)
        assert post_transfer("40.00", to_account=main_account_of(shared).pk).status_code == 201
        mine = auth_client.get(SUMMARY, {"ledger": personal_ledger(user).pk}).json()
        assert (mine["transfers_in"], mine["transfers_out"]) == ("0.00", "-40.00")
        assert mine["balance"] == "0.00"
        theirs = auth_client.get(SUMMARY, {"ledger": shared.pk}).json()
        assert (theirs["transfers_in"], theirs["transfers_out"]) == ("40.00", "0.00")
        owner = client_for(other_user).get(SUMMARY).json()
        assert (owner["transfers_in"], owner["income"], owner["balance"]) == (
            "40.00",
            "0.00",
            "0.00",
        )

    def test_monthly_and_by_category(self, auth_client, user, post_transfer):
        food = CategoryFactory(owner=user, name="Food")
        TransactionFactory(owner=user, amount=Decimal("12.00"), date=MARCH, category=food)
        assert post_transfer("25.00").status_code == 201
        months = auth_client.get(MONTHLY).json()
        assert [row["month"] for row in months] == ["2026-03"]
        march = months[0]
        assert (march["income"], march["expense"], march["balance"]) == ("0.00", "-12.00", "-12.00")
        assert (march["transfers_in"], march["transfers_out"]) == ("25.00", "-25.00")
        assert march["count"] == 3
        rows = {row["category"]: row for row in auth_client.get(BY_CATEGORY).json()}
        assert rows[food.pk]["expense"] == "-12.00"
        assert rows[food.pk]["transfers_in"] == rows[food.pk]["transfers_out"] == "0.00"
        assert rows[None]["transfers_in"] == "25.00"
        assert rows[None]["transfers_out"] == "-25.00"
        assert rows[None]["balance"] == "0.00"
        filtered = auth_client.get(MONTHLY, {"date_after": "2026-03-01"}).json()
        assert filtered[0]["transfers_out"] == "-25.00"
        filtered = auth_client.get(BY_CATEGORY, {"date_after": "2026-03-01"}).json()
        assert {row["category"]: row["transfers_in"] for row in filtered}[None] == "25.00"

    def test_incomes_and_expenses_never_show_legs(self, auth_client, user, post_transfer):
        TransactionFactory(owner=user, type=TransactionType.INCOME, amount=Decimal("1.00"))
        TransactionFactory(owner=user, amount=Decimal("2.00"))
        made = post_transfer().json()
        legs_ = {made["from_transaction"], made["to_transaction"]}
        for url in (INCOMES, EXPENSES):
            listed = results(auth_client.get(url))
            assert len(listed) == 1
            assert not legs_ & {row["id"] for row in listed}
            for leg in legs_:
                assert auth_client.get(f"{url}{leg}/").status_code == 404
        assert legs_ <= {row["id"] for row in results(auth_client.get(TRANSACTIONS))}


# --- ETags and history -------------------------------------------------------------------------


class TestVersions:
    def test_etag_and_if_match(self, auth_client, made):
        url = detail(made["id"])
        first = auth_client.get(url)
        etag = first["ETag"]
        assert etag.startswith(f'"{made["id"]}-')
        assert auth_client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
        changed = auth_client.patch(url, {"amount": "26.00"}, format="json", HTTP_IF_MATCH=etag)
        assert changed.status_code == 200, changed.content
        new_etag = changed["ETag"]
        assert new_etag != etag
        assert auth_client.get(url)["ETag"] == new_etag
        stale = auth_client.patch(url, {"amount": "27.00"}, format="json", HTTP_IF_MATCH=etag)
        assert stale.status_code == 412
        assert legs(made["id"])[1].amount == Decimal("26.00")
        assert auth_client.delete(url, HTTP_IF_MATCH=etag).status_code == 412
        assert Transfer.objects.filter(pk=made["id"]).exists()
        assert auth_client.delete(url, HTTP_IF_MATCH=new_etag).status_code == 204

    def test_a_change_through_a_leg_changes_the_transfers_etag(self, auth_client, made):
        etag = auth_client.get(detail(made["id"]))["ETag"]
        auth_client.patch(tx_url(made["to_transaction"]), {"amount": "3.00"}, format="json")
        assert auth_client.get(detail(made["id"]))["ETag"] != etag
        stale = auth_client.patch(
            detail(made["id"]), {"amount": "4.00"}, format="json", HTTP_IF_MATCH=etag
        )
        assert stale.status_code == 412

    def test_a_legs_if_match(self, auth_client, made):
        url = tx_url(made["from_transaction"])
        etag = auth_client.get(url)["ETag"]
        auth_client.patch(detail(made["id"]), {"description": "Changed"}, format="json")
        # The other leg's change moved this one too: its old ETag is stale.
        assert (
            auth_client.patch(
                url, {"amount": "1.00"}, format="json", HTTP_IF_MATCH=etag
            ).status_code
            == 412
        )
        assert auth_client.delete(url, HTTP_IF_MATCH=etag).status_code == 412
        assert Transaction.objects.filter(transfer_id=made["id"]).count() == 2
        assert legs(made["id"])[1].amount == Decimal("25.00")

    def test_history_of_a_leg_records_the_change(self, auth_client, user, made):
        auth_client.patch(
            detail(made["id"]), {"amount": "30.00", "date": "2026-03-11"}, format="json"
        )
        for leg, before, after in (
            ("from_transaction", "-25.00", "-30.00"),
            ("to_transaction", "25.00", "30.00"),
        ):
            history = auth_client.get(reverse("api:transaction-history", args=[made[leg]])).json()
            assert [entry["action"] for entry in history] == ["created", "updated"]
            assert history[0]["by"] == user.email
            assert history[1]["by"] == user.email
            changes = {change["field"]: change for change in history[1]["changes"]}
            assert (changes["amount"]["before"], changes["amount"]["after"]) == (before, after)
            assert changes["date"]["after"] == "2026-03-11"
            assert history[1]["values"]["type"] == TRANSFER

    def test_history_through_a_leg_and_of_the_delete(self, auth_client, user, made):
        auth_client.patch(tx_url(made["to_transaction"]), {"amount": "5.00"}, format="json")
        auth_client.delete(detail(made["id"]))
        for leg in ("from_transaction", "to_transaction"):
            history = auth_client.get(reverse("api:transaction-history", args=[made[leg]])).json()
            assert [entry["action"] for entry in history] == ["created", "updated", "deleted"]
            assert history[-1]["by"] == user.email
