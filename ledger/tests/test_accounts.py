"""Accounts over the API (issue 22): their CRUD, balances exact to the cent, archiving, deletion,
filters, the list's query count, and reconciliation against a bank statement."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledger.choices import Role, TransactionStatus, TransactionType
from ledger.models import Account, Transaction
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

ACCOUNTS = reverse("api:account-list")
TRANSACTIONS = reverse("api:transaction-list")
INCOME = TransactionType.INCOME
EXPENSE = TransactionType.EXPENSE
PENDING = TransactionStatus.PENDING
CLEARED = TransactionStatus.CLEARED
RECONCILED = TransactionStatus.RECONCILED


def detail(account) -> str:
    return reverse("api:account-detail", args=[account.pk])


def reconcile_url(account) -> str:
    return reverse("api:account-reconcile", args=[account.pk])


def tx_url(tx) -> str:
    return reverse("api:transaction-detail", args=[tx.pk])


def tx(account, amount, *, type=EXPENSE, status=PENDING, date=datetime.date(2026, 3, 1)):
    """A transaction of `account`, saved as the services would (the sign from its type)."""
    return TransactionFactory(
        account=account, type=type, amount=Decimal(amount), status=status, date=date
    )


def results(response) -> list:
    body = response.json()
    return body["results"] if isinstance(body, dict) else body


def read(client, account) -> dict:
    response = client.get(detail(account))
    assert response.status_code == 200, response.content
    return response.json()


# --- CRUD --------------------------------------------------------------------------------------


class TestCrud:
    def test_create_defaults_to_the_personal_ledger(self, auth_client, user):
        response = auth_client.post(
            ACCOUNTS,
            {
                "name": "Savings",
                "kind": "savings",
                "opening_balance": "100.50",
                "opening_date": "2026-01-01",
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["ledger"] == personal_ledger(user).pk
        assert body["name"] == "Savings"
        assert body["kind"] == "savings"
        assert body["opening_balance"] == "100.50"
        assert body["opening_date"] == "2026-01-01"
        assert body["archived"] is False
        assert body["balance"] == "100.50"
        assert body["cleared_balance"] == "100.50"
        assert response.has_header("ETag")
        assert Account.objects.get(pk=body["id"]).ledger_id == personal_ledger(user).pk

    def test_create_in_a_shared_ledger_the_user_writes(self, auth_client, user, other_user):
        shared = SharedLedgerFactory(owner=other_user)
        add_member(shared, user, Role.EDITOR)
        response = auth_client.post(ACCOUNTS, {"name": "Joint", "ledger": shared.pk}, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["ledger"] == shared.pk

    def test_create_in_a_ledger_the_user_only_views_is_403(self, auth_client, user, other_user):
        shared = SharedLedgerFactory(owner=other_user)
        add_member(shared, user, Role.VIEWER)
        before = Account.objects.count()
        response = auth_client.post(ACCOUNTS, {"name": "Joint", "ledger": shared.pk}, format="json")
        assert response.status_code == 403
        assert Account.objects.count() == before

    def test_create_in_a_ledger_not_yours_is_400(self, auth_client, other_user):
        before = Account.objects.count()
        response = auth_client.post(
            ACCOUNTS, {"name": "Theirs", "ledger": personal_ledger(other_user).pk}, format="json"
        )
        assert response.status_code == 400
        assert "ledger" in response.json()
        assert Account.objects.count() == before

    def test_read_update_and_list(self, auth_client, user):
        account = AccountFactory(owner=user, name="Cash", kind="cash")
        body = read(auth_client, account)
        assert body["name"] == "Cash"
        response = auth_client.patch(
            detail(account), {"name": "Wallet", "opening_balance": "12.34"}, format="json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["name"] == "Wallet"
        assert response.json()["balance"] == "12.34"
        account.refresh_from_db()
        assert (account.name, account.opening_balance) == ("Wallet", Decimal("12.34"))
        names = {row["name"] for row in results(auth_client.get(ACCOUNTS))}
        assert names == {"Main", "Wallet"}

    def test_ledger_cannot_be_changed(self, auth_client, user, other_user):
        shared = SharedLedgerFactory(owner=user)
        account = AccountFactory(owner=user)
        response = auth_client.patch(detail(account), {"ledger": shared.pk}, format="json")
        assert response.status_code in (200, 400)
        account.refresh_from_db()
        assert account.ledger_id == personal_ledger(user).pk

    def test_another_users_account_is_404(self, auth_client, other_user):
        theirs = main_account(other_user)
        assert auth_client.get(detail(theirs)).status_code == 404
        assert auth_client.patch(detail(theirs), {"name": "x"}, format="json").status_code == 404
        assert auth_client.delete(detail(theirs)).status_code == 404
        assert Account.objects.filter(pk=theirs.pk, name="Main").exists()

    def test_viewer_cannot_change_an_account(self, auth_client, user, other_user):
        shared = SharedLedgerFactory(owner=other_user)
        add_member(shared, user, Role.VIEWER)
        account = AccountFactory(ledger=shared, name="Joint")
        assert auth_client.get(detail(account)).status_code == 200
        assert auth_client.patch(detail(account), {"name": "x"}, format="json").status_code == 403
        assert auth_client.delete(detail(account)).status_code == 403
        account.refresh_from_db()
        assert account.name == "Joint"


class TestNames:
    def test_name_is_unique_per_ledger_whatever_the_case(self, auth_client, user):
        response = auth_client.post(ACCOUNTS, {"name": "mAIN"}, format="json")
        assert response.status_code == 400, response.content
        assert Account.objects.filter(ledger=personal_ledger(user)).count() == 1

    def test_rename_onto_another_accounts_name_is_400(self, auth_client, user):
        account = AccountFactory(owner=user, name="Savings")
        response = auth_client.patch(detail(account), {"name": "MAIN"}, format="json")
        assert response.status_code == 400, response.content
        account.refresh_from_db()
        assert account.name == "Savings"

    def test_rename_changing_only_the_case_is_allowed(self, auth_client, user):
        account = AccountFactory(owner=user, name="Savings")
        response = auth_client.patch(detail(account), {"name": "SAVINGS"}, format="json")
        assert response.status_code == 200, response.content

    def test_same_name_in_two_ledgers(self, auth_client, user):
        shared = SharedLedgerFactory(owner=user)
        for ledger in (personal_ledger(user), shared):
            response = auth_client.post(
                ACCOUNTS, {"name": "Savings", "ledger": ledger.pk}, format="json"
            )
            assert response.status_code == 201, response.content
        assert Account.objects.filter(name="Savings").count() == 2

    def test_blank_name_is_400(self, auth_client):
        assert auth_client.post(ACCOUNTS, {"name": "  "}, format="json").status_code == 400


# --- Balances ----------------------------------------------------------------------------------


class TestBalances:
    def test_balance_and_cleared_balance(self, auth_client, user):
        account = AccountFactory(owner=user, opening_balance=Decimal("0.10"))
        tx(account, "0.20", type=INCOME, status=CLEARED)
        tx(account, "0.10", type=INCOME, status=RECONCILED)
        tx(account, "0.30", type=EXPENSE, status=PENDING)
        tx(account, "0.07", type=EXPENSE, status=CLEARED)
        tx(main_account(user), "50.00", type=INCOME, status=CLEARED)  # another account
        body = read(auth_client, account)
        # 0.10 + 0.20 + 0.10 - 0.30 - 0.07, and without the pending one
        assert body["balance"] == "0.03"
        assert body["cleared_balance"] == "0.33"

    def test_tenths_add_up_exactly(self, auth_client, user):
        account = AccountFactory(owner=user, opening_balance=Decimal("0.10"))
        for _ in range(10):
            tx(account, "0.10", type=INCOME, status=CLEARED)
        tx(account, "0.20", type=INCOME, status=CLEARED)
        body = read(auth_client, account)
        assert body["balance"] == "1.30"
        assert body["cleared_balance"] == "1.30"

    def test_big_amounts_are_exact(self, auth_client, user):
        big = Decimal("999999999999.99")
        account = AccountFactory(owner=user, opening_balance=big)
        tx(account, big, type=INCOME, status=CLEARED)
        tx(account, big, type=INCOME, status=PENDING)
        tx(account, "0.01", type=EXPENSE, status=CLEARED)
        body = read(auth_client, account)
        assert body["balance"] == "2999999999999.96"
        assert body["cleared_balance"] == "1999999999999.97"
        listed = {row["id"]: row for row in results(auth_client.get(ACCOUNTS))}
        assert listed[account.pk]["balance"] == "2999999999999.96"
        assert listed[account.pk]["cleared_balance"] == "1999999999999.97"

    def test_negative_balances(self, auth_client, user):
        account = AccountFactory(owner=user, opening_balance=Decimal("-0.10"), kind="credit_card")
        tx(account, "0.20", type=EXPENSE, status=CLEARED)
        body = read(auth_client, account)
        assert body["balance"] == "-0.30"
        assert body["cleared_balance"] == "-0.30"

    def test_empty_account_is_its_opening_balance(self, auth_client, user):
        account = AccountFactory(owner=user, opening_balance=Decimal("42.00"))
        body = read(auth_client, account)
        assert body["balance"] == body["cleared_balance"] == "42.00"

    def test_balances_follow_writes_through_the_api(self, auth_client, user):
        account = AccountFactory(owner=user, opening_balance=Decimal("10.00"))
        created = auth_client.post(
            TRANSACTIONS,
            {
                "type": EXPENSE,
                "description": "Coffee",
                "amount": "2.50",
                "date": "2026-03-01",
                "account": account.pk,
                "status": CLEARED,
            },
            format="json",
        )
        assert created.status_code == 201, created.content
        assert read(auth_client, account)["balance"] == "7.50"
        moved = auth_client.patch(
            reverse("api:transaction-detail", args=[created.json()["id"]]),
            {"account": main_account(user).pk},
            format="json",
        )
        assert moved.status_code == 200, moved.content
        assert read(auth_client, account)["balance"] == "10.00"
        assert read(auth_client, main_account(user))["balance"] == "-2.50"


# --- Archiving and deleting --------------------------------------------------------------------


class TestArchiveAndDelete:
    def test_archived_account_refuses_new_transactions_and_keeps_its_balance(
        self, auth_client, user
    ):
        account = AccountFactory(owner=user, opening_balance=Decimal("5.00"))
        tx(account, "1.25", type=EXPENSE, status=CLEARED)
        response = auth_client.patch(detail(account), {"archived": True}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["archived"] is True
        assert response.json()["balance"] == "3.75"
        before = Transaction.objects.count()
        refused = auth_client.post(
            TRANSACTIONS,
            {"type": EXPENSE, "description": "x", "amount": "1.00", "account": account.pk},
            format="json",
        )
        assert refused.status_code == 400
        assert "account" in refused.json()
        assert Transaction.objects.count() == before
        body = read(auth_client, account)
        assert body["balance"] == "3.75"
        assert body["cleared_balance"] == "3.75"

    def test_moving_a_transaction_into_an_archived_account_is_400(self, auth_client, user):
        archived = AccountFactory(owner=user, archived=True)
        moving = tx(main_account(user), "3.00")
        response = auth_client.patch(tx_url(moving), {"account": archived.pk}, format="json")
        assert response.status_code == 400
        moving.refresh_from_db()
        assert moving.account_id == main_account(user).pk

    def test_unarchived_account_takes_transactions_again(self, auth_client, user):
        account = AccountFactory(owner=user, archived=True)
        assert (
            auth_client.patch(detail(account), {"archived": False}, format="json").status_code
            == 200
        )
        response = auth_client.post(
            TRANSACTIONS,
            {"type": INCOME, "description": "x", "amount": "1.00", "account": account.pk},
            format="json",
        )
        assert response.status_code == 201, response.content

    def test_delete_with_transactions_is_409_and_deletes_nothing(self, auth_client, user):
        account = AccountFactory(owner=user)
        kept = tx(account, "4.00")
        response = auth_client.delete(detail(account))
        assert response.status_code == 409
        assert "detail" in response.json()
        assert Account.objects.filter(pk=account.pk).exists()
        assert Transaction.objects.filter(pk=kept.pk).exists()

    def test_delete_an_empty_account(self, auth_client, user):
        account = AccountFactory(owner=user)
        assert auth_client.delete(detail(account)).status_code == 204
        assert not Account.objects.filter(pk=account.pk).exists()
        assert auth_client.get(detail(account)).status_code == 404

    def test_delete_honours_if_match(self, auth_client, user):
        account = AccountFactory(owner=user)
        etag = auth_client.get(detail(account))["ETag"]
        auth_client.patch(detail(account), {"name": "Renamed"}, format="json")
        assert auth_client.delete(detail(account), HTTP_IF_MATCH=etag).status_code == 412
        assert Account.objects.filter(pk=account.pk).exists()


# --- Filters and the list ----------------------------------------------------------------------


class TestList:
    def test_list_covers_every_ledger_of_the_user_only(self, auth_client, user, other_user):
        shared = SharedLedgerFactory(owner=other_user)
        add_member(shared, user, Role.VIEWER)
        AccountFactory(owner=other_user, name="Theirs")
        ids = {row["id"] for row in results(auth_client.get(ACCOUNTS))}
        expected = set(
            Account.objects.filter(ledger__in=[shared, personal_ledger(user)]).values_list(
                "id", flat=True
            )
        )
        assert ids == expected

    def test_ledger_filter(self, auth_client, user):
        shared = SharedLedgerFactory(owner=user)
        AccountFactory(ledger=shared, name="Joint")
        rows = results(auth_client.get(ACCOUNTS, {"ledger": shared.pk}))
        assert sorted(row["name"] for row in rows) == ["Joint", "Main"]
        assert {row["ledger"] for row in rows} == {shared.pk}
        rows = results(auth_client.get(ACCOUNTS, {"ledger": personal_ledger(user).pk}))
        assert [row["name"] for row in rows] == ["Main"]

    def test_ledger_filter_of_a_ledger_not_yours_is_400(self, auth_client, other_user):
        response = auth_client.get(ACCOUNTS, {"ledger": personal_ledger(other_user).pk})
        assert response.status_code == 400

    def test_archived_filter(self, auth_client, user):
        AccountFactory(owner=user, name="Old", archived=True)
        archived = results(auth_client.get(ACCOUNTS, {"archived": "true"}))
        assert [row["name"] for row in archived] == ["Old"]
        open_ = results(auth_client.get(ACCOUNTS, {"archived": "false"}))
        assert [row["name"] for row in open_] == ["Main"]

    def test_query_count_does_not_grow(self, auth_client, user):
        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                response = auth_client.get(ACCOUNTS)
            assert response.status_code == 200
            return len(captured.captured_queries)

        for _ in range(2):
            account = AccountFactory(owner=user)
            tx(account, "1.00", status=CLEARED)
        few = queries()
        for _ in range(8):
            account = AccountFactory(owner=user)
            for _ in range(5):
                tx(account, "1.00", status=CLEARED)
        many = queries()
        assert len(results(auth_client.get(ACCOUNTS))) == 11
        assert many <= few

    def test_list_balances_of_accounts_with_many_transactions(self, auth_client, user):
        # The list's balances are per account, not multiplied by any other join.
        category = CategoryFactory(owner=user)
        account = AccountFactory(owner=user, opening_balance=Decimal("1.00"))
        for status in (PENDING, CLEARED, RECONCILED):
            tx(account, "0.10", type=INCOME, status=status)
        TransactionFactory(account=account, type=EXPENSE, amount=Decimal("0.05"), category=category)
        row = next(r for r in results(auth_client.get(ACCOUNTS)) if r["id"] == account.pk)
        assert row["balance"] == "1.25"
        assert row["cleared_balance"] == "1.20"


# --- Reconciliation ----------------------------------------------------------------------------


@pytest.fixture
def statement(user):
    """An account opened with 100.00 and, in March: +50 cleared, -20 cleared, -5 pending; in
    April -7 cleared. Its cleared balance at the end of March is 130.00."""
    account = AccountFactory(
        owner=user,
        opening_balance=Decimal("100.00"),
        opening_date=datetime.date(2026, 1, 1),
    )
    rows = {
        "salary": tx(account, "50.00", type=INCOME, status=CLEARED, date=datetime.date(2026, 3, 1)),
        "rent": tx(account, "20.00", status=CLEARED, date=datetime.date(2026, 3, 31)),
        "pending": tx(account, "5.00", status=PENDING, date=datetime.date(2026, 3, 5)),
        "later": tx(account, "7.00", status=CLEARED, date=datetime.date(2026, 4, 1)),
    }
    return account, rows


def reconcile(client, account, balance, date="2026-03-31"):
    return client.post(
        reconcile_url(account),
        {"statement_date": date, "statement_balance": balance},
        format="json",
    )


class TestReconcile:
    def test_matching_statement_reconciles_cleared_rows_up_to_its_date(
        self, auth_client, statement
    ):
        account, rows = statement
        versions = {name: row.version for name, row in rows.items()}
        response = reconcile(auth_client, account, "130.00")
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["reconciled"] == 2
        assert body["account"]["id"] == account.pk
        assert body["account"]["balance"] == "118.00"
        assert body["account"]["cleared_balance"] == "123.00"
        for row in rows.values():
            row.refresh_from_db()
        assert rows["salary"].status == rows["rent"].status == RECONCILED
        assert rows["pending"].status == PENDING
        assert rows["later"].status == CLEARED
        assert rows["salary"].version == versions["salary"] + 1
        assert rows["pending"].version == versions["pending"]
        assert rows["later"].version == versions["later"]

    def test_reconciling_again_counts_what_was_reconciled(self, auth_client, statement):
        account, rows = statement
        assert reconcile(auth_client, account, "130.00").status_code == 200
        again = reconcile(auth_client, account, "130.00")
        assert again.status_code == 200
        assert again.json()["reconciled"] == 0
        # The next statement counts the reconciled rows and the newly cleared one.
        later = reconcile(auth_client, account, "123.00", date="2026-04-30")
        assert later.status_code == 200, later.content
        assert later.json()["reconciled"] == 1
        rows["later"].refresh_from_db()
        assert rows["later"].status == RECONCILED

    def test_mismatch_is_409_with_the_difference_and_changes_nothing(self, auth_client, statement):
        account, _rows = statement
        before = {
            row.pk: (row.status, row.version) for row in Transaction.objects.filter(account=account)
        }
        response = reconcile(auth_client, account, "131.00")
        assert response.status_code == 409
        body = response.json()
        assert body["difference"] == "1.00"
        assert body["cleared_balance"] == "130.00"
        assert body["statement_balance"] == "131.00"
        assert "detail" in body
        after = {
            row.pk: (row.status, row.version) for row in Transaction.objects.filter(account=account)
        }
        assert after == before

    def test_difference_is_statement_less_account(self, auth_client, statement):
        account, _ = statement
        response = reconcile(auth_client, account, "129.90")
        assert response.status_code == 409
        assert response.json()["difference"] == "-0.10"

    def test_pending_rows_do_not_count(self, auth_client, statement):
        account, _ = statement
        # 130.00 less the pending 5.00 is what a statement would show if it had cleared.
        assert reconcile(auth_client, account, "125.00").status_code == 409

    def test_exact_to_the_cent(self, auth_client, user):
        account = AccountFactory(owner=user, opening_balance=Decimal("0.10"))
        tx(account, "0.20", type=INCOME, status=CLEARED)
        tx(account, "999999999999.59", type=INCOME, status=CLEARED)
        response = reconcile(auth_client, account, "999999999999.88", date="2026-12-31")
        assert response.status_code == 409
        assert response.json()["difference"] == "-0.01"
        response = reconcile(auth_client, account, "999999999999.89", date="2026-12-31")
        assert response.status_code == 200, response.content
        assert response.json()["reconciled"] == 2

    def test_bad_input_is_400(self, auth_client, statement):
        account, _ = statement
        response = auth_client.post(reconcile_url(account), {}, format="json")
        assert response.status_code == 400
        assert {"statement_date", "statement_balance"} <= set(response.json())
        response = reconcile(auth_client, account, "abc")
        assert response.status_code == 400

    def test_another_users_account_is_404(self, auth_client, other_user):
        assert reconcile(auth_client, main_account(other_user), "0.00").status_code == 404

    def test_viewer_is_403(self, auth_client, user, other_user):
        shared = SharedLedgerFactory(owner=other_user)
        add_member(shared, user, Role.VIEWER)
        account = AccountFactory(ledger=shared)
        row = tx(account, "1.00", status=CLEARED)
        assert reconcile(auth_client, account, "-1.00", date="2026-12-31").status_code == 403
        row.refresh_from_db()
        assert row.status == CLEARED

    def test_history_records_the_reconciliation(self, auth_client, statement):
        account, rows = statement
        assert reconcile(auth_client, account, "130.00").status_code == 200
        url = reverse("api:transaction-history", args=[rows["salary"].pk])
        history = auth_client.get(url).json()
        assert history[-1]["values"]["status"] == RECONCILED
        assert history[-1]["values"]["version"] == rows["salary"].version + 1


@pytest.fixture
def reconciled(auth_client, statement):
    account, rows = statement
    assert reconcile(auth_client, account, "130.00").status_code == 200
    row = rows["rent"]
    row.refresh_from_db()
    assert row.status == RECONCILED
    return row


class TestReconciledTransaction:
    @pytest.mark.parametrize(
        ("change", "named"),
        [
            ({"amount": "21.00"}, "amount"),
            ({"date": "2026-03-30"}, "date"),
            ({"type": INCOME}, "type"),
        ],
    )
    def test_fixed_fields_are_409(self, auth_client, reconciled, change, named):
        version = reconciled.version
        response = auth_client.patch(tx_url(reconciled), change, format="json")
        assert response.status_code == 409, response.content
        assert named in response.json()["detail"]
        reconciled.refresh_from_db()
        assert (reconciled.amount, reconciled.date, reconciled.type) == (
            Decimal("-20.00"),
            datetime.date(2026, 3, 31),
            EXPENSE,
        )
        assert reconciled.version == version

    def test_account_is_fixed(self, auth_client, user, reconciled):
        response = auth_client.patch(
            tx_url(reconciled), {"account": main_account(user).pk}, format="json"
        )
        assert response.status_code == 409
        assert "account" in response.json()["detail"]
        reconciled.refresh_from_db()
        assert reconciled.account_id != main_account(user).pk

    def test_description_and_category_may_change(self, auth_client, user, reconciled):
        category = CategoryFactory(owner=user, name="Housing")
        response = auth_client.patch(
            tx_url(reconciled),
            {"description": "Rent, March", "category": category.pk},
            format="json",
        )
        assert response.status_code == 200, response.content
        assert response.json()["status"] == RECONCILED
        reconciled.refresh_from_db()
        assert (reconciled.description, reconciled.category_id) == ("Rent, March", category.pk)
        assert reconciled.status == RECONCILED

    def test_a_put_repeating_the_same_values_is_allowed(self, auth_client, reconciled):
        body = auth_client.get(tx_url(reconciled)).json()
        put = {
            key: body[key] for key in ("type", "description", "amount", "date", "account", "status")
        }
        put["amount"] = "20.00"  # the expense's size: it is stored negative either way
        put["description"] = "Rent"
        response = auth_client.put(tx_url(reconciled), put, format="json")
        assert response.status_code == 200, response.content

    def test_delete_is_409(self, auth_client, reconciled):
        response = auth_client.delete(tx_url(reconciled))
        assert response.status_code == 409
        assert Transaction.objects.filter(pk=reconciled.pk).exists()

    def test_cleared_again_it_may_change(self, auth_client, reconciled):
        response = auth_client.patch(tx_url(reconciled), {"status": CLEARED}, format="json")
        assert response.status_code == 200, response.content
        response = auth_client.patch(tx_url(reconciled), {"amount": "21.00"}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["amount"] == "-21.00"
        assert auth_client.delete(tx_url(reconciled)).status_code == 204

    def test_status_reconciled_cannot_be_set_directly(self, auth_client, user):
        row = tx(main_account(user), "3.00", status=CLEARED)
        response = auth_client.patch(tx_url(row), {"status": RECONCILED}, format="json")
        assert response.status_code == 400
        assert "status" in response.json()
        row.refresh_from_db()
        assert row.status == CLEARED
        response = auth_client.post(
            TRANSACTIONS,
            {"type": EXPENSE, "description": "x", "amount": "1.00", "status": RECONCILED},
            format="json",
        )
        assert response.status_code == 400
        assert "status" in response.json()
        assert not Transaction.objects.filter(description="x").exists()

    def test_a_reconciled_row_may_keep_its_status_on_put(self, auth_client, reconciled):
        response = auth_client.patch(
            tx_url(reconciled), {"status": RECONCILED, "description": "Rent!"}, format="json"
        )
        assert response.status_code == 200, response.content
