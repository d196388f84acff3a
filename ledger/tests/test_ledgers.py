"""Ledgers and their members over the API (issue 22): listing, creating, renaming and deleting
ledgers, the personal ledger every user gets, members and their roles, and the rule that a change
of who is in a ledger holds from the very next request, whatever the caches hold."""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from conftest import bearer
from ledger import cached_reads, services
from ledger.choices import Role, TransactionType
from ledger.models import Account, Category, Ledger, Membership, Transaction, Transfer
from ledger.tests.factories import (
    CategoryFactory,
    SharedLedgerFactory,
    TransactionFactory,
    add_member,
    main_account,
    personal_ledger,
)

pytestmark = pytest.mark.django_db

LEDGERS = reverse("api:ledger-list")
TRANSACTIONS = reverse("api:transaction-list")
SUMMARY = reverse("api:summary-list")
DAY = datetime.date(2026, 3, 15)


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user))
    return client


def ledger_url(ledger) -> str:
    return reverse("api:ledger-detail", args=[ledger.pk])


def members_url(ledger) -> str:
    return reverse("api:ledger-member-list", kwargs={"ledger_pk": ledger.pk})


def member_url(ledger, user) -> str:
    return reverse("api:ledger-member-detail", kwargs={"ledger_pk": ledger.pk, "user_id": user.pk})


def tx_url(tx) -> str:
    return reverse("api:transaction-detail", args=[tx.pk])


def results(response) -> list:
    body = response.json()
    return body["results"] if isinstance(body, dict) else body


def main_of(ledger) -> Account:
    return Account.objects.get(ledger=ledger, name="Main")


def role_of(ledger, user) -> str | None:
    return (
        Membership.objects.filter(ledger=ledger, user=user).values_list("role", flat=True).first()
    )


@pytest.fixture
def household(user):
    """A ledger made to share, owned by `user`, with a row in its Main account."""
    ledger = SharedLedgerFactory(owner=user, name="Household")
    TransactionFactory(account=main_of(ledger), description="groceries", amount=Decimal("40"))
    return ledger


# --- Ledgers -----------------------------------------------------------------------------------


class TestLedgerList:
    def test_each_ledger_with_the_users_role_and_whether_it_is_personal(
        self, user, other_user, auth_client
    ):
        shared = SharedLedgerFactory(owner=other_user, name="Flat")
        add_member(shared, user, Role.VIEWER)
        edited = SharedLedgerFactory(owner=other_user, name="Club")
        add_member(edited, user, Role.EDITOR)
        SharedLedgerFactory(owner=other_user, name="Not yours")

        response = auth_client.get(LEDGERS)

        assert response.status_code == 200
        rows = {row["id"]: row for row in results(response)}
        mine = personal_ledger(user)
        assert set(rows) == {mine.pk, shared.pk, edited.pk}
        assert rows[mine.pk]["role"] == "owner"
        assert rows[mine.pk]["personal"] is True
        assert rows[shared.pk]["role"] == "viewer"
        assert rows[shared.pk]["personal"] is False
        assert rows[edited.pk]["role"] == "editor"
        assert rows[edited.pk]["name"] == "Club"

    def test_another_users_personal_ledger_is_not_listed(self, user, other_user, auth_client):
        theirs = personal_ledger(other_user)
        ids = {row["id"] for row in results(auth_client.get(LEDGERS))}
        assert theirs.pk not in ids


class TestLedgerCreate:
    def test_the_creator_owns_it_and_it_starts_with_a_main_account(self, user, auth_client):
        response = auth_client.post(LEDGERS, {"name": "Holiday house"}, format="json")

        assert response.status_code == 201
        body = response.json()
        assert body["name"] == "Holiday house"
        assert body["role"] == "owner"
        assert body["personal"] is False
        ledger = Ledger.objects.get(pk=body["id"])
        assert ledger.personal_for_id is None
        assert list(ledger.memberships.values_list("user_id", "role")) == [(user.pk, "owner")]
        assert list(ledger.accounts.values_list("name", flat=True)) == ["Main"]
        # Seen at once over the API, cache or not.
        accounts = auth_client.get(reverse("api:account-list"), {"ledger": ledger.pk})
        assert [row["name"] for row in results(accounts)] == ["Main"]
        assert ledger.pk in {row["id"] for row in results(auth_client.get(LEDGERS))}

    def test_a_blank_name_is_400_and_makes_nothing(self, auth_client):
        before = Ledger.objects.count()
        response = auth_client.post(LEDGERS, {"name": "  "}, format="json")
        assert response.status_code == 400
        assert Ledger.objects.count() == before


class TestLedgerRename:
    def test_by_the_owner(self, auth_client, household):
        response = auth_client.patch(ledger_url(household), {"name": "Home"}, format="json")
        assert response.status_code == 200
        assert response.json()["name"] == "Home"
        household.refresh_from_db()
        assert household.name == "Home"

    def test_put_by_the_owner(self, auth_client, household):
        response = auth_client.put(ledger_url(household), {"name": "Home"}, format="json")
        assert response.status_code == 200
        household.refresh_from_db()
        assert household.name == "Home"

    @pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
    @pytest.mark.parametrize("method", ["patch", "put"])
    def test_by_an_editor_or_a_viewer_is_403_and_changes_nothing(
        self, other_user, other_client, household, role, method
    ):
        add_member(household, other_user, role)
        version = Ledger.objects.get(pk=household.pk).version

        response = getattr(other_client, method)(
            ledger_url(household), {"name": "Taken over"}, format="json"
        )

        assert response.status_code == 403
        household.refresh_from_db()
        assert household.name == "Household"
        assert household.version == version


class TestLedgerDelete:
    def test_by_the_owner_deletes_everything_in_it(
        self, user, auth_client, household, ledger_cache
    ):
        member = UserFactory()
        add_member(household, member, Role.EDITOR)
        savings = services.account_create(actor=user, ledger=household, name="Savings")
        category = CategoryFactory(ledger=household, name="Food")
        tx = TransactionFactory(account=savings, category=category, description="in savings")
        # A transfer from the user's own account into the household: it goes whole.
        transfer = services.transfer_create(
            actor=user, from_account=main_account(user), to_account=savings, amount=Decimal("9")
        )
        personal_rows = Transaction.objects.filter(ledger=personal_ledger(user)).count()
        member_client = client_for(member)
        # The member's answers are cached before the delete.
        assert member_client.get(ledger_url(household)).status_code == 200
        assert member_client.get(tx_url(tx)).status_code == 200
        assert member_client.get(SUMMARY).json()["count"] == 3  # 2 rows and a leg

        response = auth_client.delete(ledger_url(household))

        assert response.status_code == 204
        assert not Ledger.objects.filter(pk=household.pk).exists()
        assert not Account.objects.filter(ledger_id=household.pk).exists()
        assert not Transaction.objects.filter(ledger_id=household.pk).exists()
        assert not Category.objects.filter(ledger_id=household.pk).exists()
        assert not Membership.objects.filter(ledger_id=household.pk).exists()
        # The transfer's leg in the personal ledger went with it; nothing else there did.
        assert Transaction.objects.filter(transfer_id=transfer.pk).count() == 0
        assert Transaction.objects.filter(ledger=personal_ledger(user)).count() == personal_rows - 1
        # Its members lose it from their very next request.
        assert member_client.get(ledger_url(household)).status_code == 404
        assert member_client.get(tx_url(tx)).status_code == 404
        assert member_client.get(SUMMARY).json()["count"] == 0
        assert household.pk not in {row["id"] for row in results(member_client.get(LEDGERS))}
        assert auth_client.get(ledger_url(household)).status_code == 404

    def test_it_leaves_no_transfer_behind(self, user, auth_client, other_client, household):
        """A transfer with a leg in the deleted ledger goes whole: no leg-less transfer is left,
        which would be nobody's and everybody's (listed to all, answering 409 "lost a leg")."""
        transfer = services.transfer_create(
            actor=user,
            from_account=main_account(user),
            to_account=main_of(household),
            amount=Decimal("9"),
        )

        assert auth_client.delete(ledger_url(household)).status_code == 204

        assert not Transfer.objects.filter(pk=transfer.pk).exists()
        detail = reverse("api:transfer-detail", args=[transfer.pk])
        missing = reverse("api:transfer-detail", args=[999999])
        for client in (auth_client, other_client):
            listed = client.get(reverse("api:transfer-list"))
            assert listed.status_code == 200
            assert transfer.pk not in {row["id"] for row in results(listed)}
            assert client.get(detail).status_code == 404
            assert client.get(detail).json() == client.get(missing).json()

    def test_a_deleted_users_transfers_leave_nothing_behind(self, user, other_client):
        """The same when a user (staff delete them) goes with their personal ledger."""
        transfer = services.transfer_create(
            actor=user,
            from_account=main_account(user),
            to_account=services.account_create(
                actor=user, ledger=personal_ledger(user), name="Savings"
            ),
            amount=Decimal("9"),
        )

        user.delete()

        assert not Transfer.objects.filter(pk=transfer.pk).exists()
        listed = other_client.get(reverse("api:transfer-list"))
        assert listed.status_code == 200
        assert results(listed) == []

    @pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
    def test_by_an_editor_or_a_viewer_is_403(self, other_user, other_client, household, role):
        add_member(household, other_user, role)
        response = other_client.delete(ledger_url(household))
        assert response.status_code == 403
        assert Ledger.objects.filter(pk=household.pk).exists()
        assert Transaction.objects.filter(ledger=household).count() == 1

    def test_a_personal_ledger_cannot_be_deleted(self, user, auth_client):
        mine = personal_ledger(user)
        TransactionFactory(owner=user)

        response = auth_client.delete(ledger_url(mine))

        assert response.status_code == 409
        assert "detail" in response.json()
        assert Ledger.objects.filter(pk=mine.pk).exists()
        assert Transaction.objects.filter(ledger=mine).count() == 1
        assert Account.objects.filter(ledger=mine, name="Main").exists()


class TestNewUser:
    def test_sign_up_gives_a_personal_ledger_where_the_tutorial_lands(self, api_client):
        registered = api_client.post(
            reverse("auth-register"),
            {"email": "newbie@example.com", "password": PASSWORD},
            format="json",
        )
        assert registered.status_code == 201
        tokens = api_client.post(
            reverse("auth-token"), {"email": "newbie@example.com", "password": PASSWORD}
        )
        assert tokens.status_code == 200
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}")

        ledgers = results(client.get(LEDGERS))
        assert len(ledgers) == 1
        assert ledgers[0]["name"] == "Personal"
        assert ledgers[0]["personal"] is True
        assert ledgers[0]["role"] == "owner"
        accounts = results(client.get(reverse("api:account-list")))
        assert [(a["name"], a["ledger"]) for a in accounts] == [("Main", ledgers[0]["id"])]

        # The README's first write: no account, no ledger named.
        income = client.post(
            reverse("api:income-list"), {"description": "lottery", "amount": 1000.0}, format="json"
        )

        assert income.status_code == 201
        body = income.json()
        assert body["type"] == "INCOME"
        assert body["amount"] == "1000.00"
        assert body["account"] == accounts[0]["id"]
        assert body["ledger"] == ledgers[0]["id"]
        user = User.objects.get(email="newbie@example.com")
        assert Transaction.objects.get(pk=body["id"]).account == main_account(user)

    def test_a_user_made_by_staff_gets_one_too(self, staff_client):
        response = staff_client.post(
            reverse("api:user-list"), {"email": "made@example.com", "password": PASSWORD}
        )
        assert response.status_code == 201
        user = User.objects.get(email="made@example.com")
        ledger = Ledger.objects.get(personal_for=user)
        assert ledger.name == "Personal"
        assert list(ledger.memberships.values_list("user_id", "role")) == [(user.pk, "owner")]
        assert list(ledger.accounts.values_list("name", flat=True)) == ["Main"]


# --- Members -----------------------------------------------------------------------------------


class TestMembers:
    def test_any_member_lists_them(self, user, other_user, other_client, household):
        add_member(household, other_user, Role.VIEWER)

        response = other_client.get(members_url(household))

        assert response.status_code == 200
        rows = response.json()
        assert [(row["user"], row["role"]) for row in rows] == [
            (user.pk, "owner"),
            (other_user.pk, "viewer"),
        ]
        assert set(rows[0]) == {"user", "email", "name", "role", "created_at"}
        assert rows[0]["email"] == user.email
        assert rows[0]["name"] == user.get_full_name()

    def test_one_member(self, other_user, other_client, household):
        add_member(household, other_user, Role.VIEWER)
        response = other_client.get(member_url(household, other_user))
        assert response.status_code == 200
        assert response.json()["role"] == "viewer"

    def test_a_non_member_gets_404_as_for_no_ledger(self, user, other_client, household):
        theirs = other_client.get(members_url(household))
        missing = other_client.get(reverse("api:ledger-member-list", kwargs={"ledger_pk": 999999}))
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json() == missing.json()
        one = other_client.get(member_url(household, user))
        assert one.status_code == 404
        assert one.json() == missing.json()

    def test_the_owner_changes_a_role(self, auth_client, other_user, household):
        add_member(household, other_user, Role.VIEWER)

        response = auth_client.patch(
            member_url(household, other_user), {"role": "editor"}, format="json"
        )

        assert response.status_code == 200
        assert response.json()["role"] == "editor"
        assert role_of(household, other_user) == Role.EDITOR

    def test_a_role_change_holds_from_the_next_request(
        self, auth_client, other_user, other_client, household, ledger_cache
    ):
        add_member(household, other_user, Role.EDITOR)
        tx = Transaction.objects.get(ledger=household)
        assert (
            other_client.patch(tx_url(tx), {"description": "one"}, format="json").status_code == 200
        )

        demoted = auth_client.patch(
            member_url(household, other_user), {"role": "viewer"}, format="json"
        )
        assert demoted.status_code == 200

        refused = other_client.patch(tx_url(tx), {"description": "two"}, format="json")
        assert refused.status_code == 403
        tx.refresh_from_db()
        assert tx.description == "one"

    @pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
    @pytest.mark.parametrize("body", [{"role": "owner"}, {"role": "viewer"}, {}])
    def test_an_editor_or_viewer_changing_a_role_is_403(
        self, other_user, other_client, household, role, body
    ):
        """Owners only, whatever the body: an empty PATCH is refused as well, not a 200."""
        bystander = UserFactory()
        add_member(household, bystander, Role.EDITOR)
        add_member(household, other_user, role)

        for target in (bystander, other_user):
            response = other_client.patch(member_url(household, target), body, format="json")
            assert response.status_code == 403, (target, response.json())

        assert role_of(household, bystander) == Role.EDITOR
        assert role_of(household, other_user) == role

    def test_the_owner_removes_a_member(self, auth_client, other_user, household):
        add_member(household, other_user, Role.EDITOR)

        response = auth_client.delete(member_url(household, other_user))

        assert response.status_code == 204
        assert role_of(household, other_user) is None

    @pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
    def test_a_member_cannot_remove_another(self, other_user, other_client, household, role):
        bystander = UserFactory()
        add_member(household, bystander, Role.VIEWER)
        add_member(household, other_user, role)

        response = other_client.delete(member_url(household, bystander))

        assert response.status_code == 403
        assert role_of(household, bystander) == Role.VIEWER

    @pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER, Role.OWNER])
    def test_a_member_leaves(self, other_user, other_client, household, role):
        add_member(household, other_user, role)

        response = other_client.delete(member_url(household, other_user))

        assert response.status_code == 204
        assert role_of(household, other_user) is None
        assert other_client.get(ledger_url(household)).status_code == 404

    def test_the_last_owner_cannot_step_down_nor_leave(self, user, auth_client, household):
        add_member(household, UserFactory(), Role.EDITOR)

        demote = auth_client.patch(member_url(household, user), {"role": "editor"}, format="json")
        leave = auth_client.delete(member_url(household, user))

        assert demote.status_code == 409
        assert leave.status_code == 409
        assert "detail" in demote.json() and "detail" in leave.json()
        assert role_of(household, user) == Role.OWNER

    def test_one_of_two_owners_may_step_down(self, user, other_user, auth_client, household):
        add_member(household, other_user, Role.OWNER)

        response = auth_client.patch(member_url(household, user), {"role": "viewer"}, format="json")

        assert response.status_code == 200
        assert role_of(household, user) == Role.VIEWER
        # The last owner left now stays.
        again = client_for(other_user).delete(member_url(household, other_user))
        assert again.status_code == 409

    def test_the_last_owner_cannot_be_removed_by_a_co_owner_turned_last(
        self, user, other_user, other_client, household
    ):
        add_member(household, other_user, Role.OWNER)
        assert other_client.delete(member_url(household, user)).status_code == 204

        response = other_client.delete(member_url(household, other_user))

        assert response.status_code == 409
        assert role_of(household, other_user) == Role.OWNER

    def test_a_personal_ledgers_own_user_stays_its_owner(self, user, other_user, other_client):
        mine = personal_ledger(user)
        add_member(mine, other_user, Role.OWNER)

        demote = other_client.patch(member_url(mine, user), {"role": "editor"}, format="json")
        remove = other_client.delete(member_url(mine, user))
        leave = client_for(user).delete(member_url(mine, user))

        assert (demote.status_code, remove.status_code, leave.status_code) == (409, 409, 409)
        assert role_of(mine, user) == Role.OWNER

    def test_an_unknown_member_is_404(self, auth_client, household, other_user):
        response = auth_client.patch(member_url(household, other_user), {"role": "viewer"})
        assert response.status_code == 404
        assert role_of(household, other_user) is None


# --- A change of who is in a ledger holds at once, whatever the caches hold --------------------


def _warm(client, ledger, tx) -> None:
    """Every answer the member's client can have cached about the ledger."""
    assert client.get(ledger_url(ledger)).status_code == 200
    assert client.get(tx_url(tx)).status_code == 200
    assert client.get(members_url(ledger)).status_code == 200
    assert tx.pk in {row["id"] for row in results(client.get(TRANSACTIONS))}
    assert client.get(TRANSACTIONS, {"ledger": ledger.pk}).json()["count"] == 1
    assert client.get(SUMMARY).json()["count"] == 1
    assert client.get(SUMMARY, {"ledger": ledger.pk}).json()["count"] == 1


def _locked_out(client, ledger, tx) -> None:
    assert client.get(tx_url(tx)).status_code == 404
    assert client.patch(tx_url(tx), {"description": "x"}, format="json").status_code == 404
    assert client.get(reverse("api:transaction-history", args=[tx.pk])).status_code == 404
    assert client.get(ledger_url(ledger)).status_code == 404
    assert client.get(members_url(ledger)).status_code == 404
    assert tx.pk not in {row["id"] for row in results(client.get(TRANSACTIONS))}
    assert client.get(TRANSACTIONS, {"ledger": ledger.pk}).status_code == 400
    assert client.get(SUMMARY).json()["count"] == 0
    assert client.get(SUMMARY, {"ledger": ledger.pk}).status_code == 400
    assert ledger.pk not in {row["id"] for row in results(client.get(LEDGERS))}


@pytest.mark.parametrize("how", ["removed by the owner", "left", "ledger deleted"])
def test_a_removed_member_is_404_from_the_very_next_request(
    user, auth_client, other_user, other_client, household, ledger_cache, how
):
    add_member(household, other_user, Role.EDITOR)
    tx = Transaction.objects.get(ledger=household)
    _warm(other_client, household, tx)
    # What the caches hold for the member now: their roles (with the household in them).
    generation = User.objects.get(pk=other_user.pk).ledger_generation
    key = f"ledger:{other_user.pk}:{generation}:roles"
    assert household.pk in cache.get(key)

    if how == "removed by the owner":
        response = auth_client.delete(member_url(household, other_user))
    elif how == "left":
        response = other_client.delete(member_url(household, other_user))
    else:
        response = auth_client.delete(ledger_url(household))
    assert response.status_code == 204

    # The old answers are all still there, in the shared cache and in this process...
    assert household.pk in cache.get(key)
    assert household.pk in cached_reads.LOCAL.get(key)
    # ...and none of them is read again.
    if how != "ledger deleted":
        _locked_out(other_client, household, tx)
    else:
        assert other_client.get(tx_url(tx)).status_code == 404
        assert other_client.get(ledger_url(household)).status_code == 404
        assert other_client.get(SUMMARY).json()["count"] == 0
        assert household.pk not in {row["id"] for row in results(other_client.get(LEDGERS))}


def test_a_removed_member_is_404_even_when_their_next_generation_was_cached_before(
    user, auth_client, other_user, other_client, household, ledger_cache
):
    """Whatever the caches hold: answers cached under any key the member had before the removal
    (their generation then, and any earlier one) are never served after it."""
    add_member(household, other_user, Role.VIEWER)
    tx = Transaction.objects.get(ledger=household)
    _warm(other_client, household, tx)
    # Another write of the household (the member's generation moves on) and more cached reads.
    services.category_create(actor=user, name="Rent", ledger=household)
    _warm(other_client, household, tx)

    assert auth_client.delete(member_url(household, other_user)).status_code == 204

    _locked_out(other_client, household, tx)


@pytest.mark.parametrize("b_ledgers", [1, 2], ids=["B-in-fewer-ledgers", "B-in-as-many"])
def test_two_members_of_a_ledger_never_share_a_cached_answer(ledger_cache, b_ledgers):
    """A is in L1 and L2, B in L1 only (and, in the second run, in a ledger of their own so that
    both have as many ledgers: the same statements' shapes). B's answers, asked right after A's
    same ones were cached, never hold L2's rows."""
    a, b = UserFactory(), UserFactory()
    l1 = SharedLedgerFactory(owner=a, name="L1")
    l2 = SharedLedgerFactory(owner=a, name="L2")
    add_member(l1, b, Role.VIEWER)
    if b_ledgers == 2:
        SharedLedgerFactory(owner=b, name="B's own")
    one = TransactionFactory(
        account=main_of(l1), type=TransactionType.INCOME, amount=Decimal("100"), date=DAY
    )
    two = TransactionFactory(
        account=main_of(l2), type=TransactionType.INCOME, amount=Decimal("7"), date=DAY
    )
    a_client, b_client = client_for(a), client_for(b)

    queries = [
        (SUMMARY, {}),
        (reverse("api:summary-monthly"), {}),
        (reverse("api:summary-by-category"), {}),
        (SUMMARY, {"type": "INCOME"}),
        (TRANSACTIONS, {}),
        (TRANSACTIONS, {"type": "INCOME"}),
    ]
    for url, params in queries:
        a_answer = a_client.get(url, params).json()
        b_answer = b_client.get(url, params).json()
        if url == TRANSACTIONS:
            assert {row["id"] for row in a_answer["results"]} == {one.pk, two.pk}
            assert a_answer["count"] == 2
            assert {row["id"] for row in b_answer["results"]} == {one.pk}
            assert b_answer["count"] == 1
            continue
        a_rows = a_answer if isinstance(a_answer, list) else [a_answer]
        b_rows = b_answer if isinstance(b_answer, list) else [b_answer]
        assert sum(Decimal(row["income"]) for row in a_rows) == Decimal("107.00"), url
        assert sum(Decimal(row["income"]) for row in b_rows) == Decimal("100.00"), url
        assert sum(row["count"] for row in b_rows) == 1, url

    # B names L2: as if it did not exist, before and after A's answer about it was cached.
    assert a_client.get(SUMMARY, {"ledger": l2.pk}).json()["income"] == "7.00"
    assert b_client.get(SUMMARY, {"ledger": l2.pk}).status_code == 400
    assert b_client.get(tx_url(two)).status_code == 404


class TestDepartures:
    def test_a_reconciled_leg_in_another_ledger_keeps_its_transfer(
        self, user, auth_client, household
    ):
        """Deleting a ledger would take the other leg of its transfers; one reconciled there
        was checked against a statement, so the delete is a 409 and nothing goes."""
        transfer = services.transfer_create(
            actor=user,
            from_account=main_of(household),
            to_account=main_account(user),
            amount=Decimal("9"),
            date=DAY,
        )
        arrived = transfer.legs.get(amount__gt=0)
        with services.unit_of_work(arrived.ledger_id):
            Transaction.objects.filter(pk=arrived.pk).update(status="reconciled")

        refused = auth_client.delete(ledger_url(household))

        assert refused.status_code == 409
        assert "reconciled" in refused.json()["detail"]
        assert Ledger.objects.filter(pk=household.pk).exists()
        assert transfer.legs.count() == 2

    def test_a_departing_sole_owner_hands_a_shared_ledger_to_its_oldest_member(
        self, user, other_user, household
    ):
        add_member(household, other_user, Role.VIEWER)
        youngest = UserFactory()
        add_member(household, youngest, Role.EDITOR)

        user.delete()

        assert role_of(household, other_user) == Role.OWNER
        assert role_of(household, youngest) == Role.EDITOR
        assert Transaction.objects.filter(ledger=household, description="groceries").exists()

    def test_a_shared_ledger_its_departing_owner_is_alone_in_goes_too(self, user, household):
        user.delete()

        assert not Ledger.objects.filter(pk=household.pk).exists()
        assert not Transaction.objects.filter(ledger=household.pk).exists()

    def test_a_ledger_with_another_owner_is_left_as_it_is(self, user, other_user, household):
        add_member(household, other_user, Role.OWNER)
        third = UserFactory()
        add_member(household, third, Role.EDITOR)

        user.delete()

        assert role_of(household, other_user) == Role.OWNER
        assert role_of(household, third) == Role.EDITOR
