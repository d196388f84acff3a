"""Every create, update and delete of a transaction is recorded, readable by the members of its
ledger (whoever made each change), and by no one else."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from conftest import bearer
from ledger import services
from ledger.choices import Role
from ledger.models import Transaction
from ledger.services import schedules, unit_of_work
from ledger.tests.factories import SharedLedgerFactory, add_member, main_account

pytestmark = pytest.mark.django_db

EXPENSES = reverse("api:expense-list")


def history_url(pk) -> str:
    return reverse("api:transaction-history", args=[pk])


def test_history_records_who_when_and_before_and_after(auth_client, user, category):
    pk = auth_client.post(EXPENSES, {"description": "pizza", "amount": "50"}).json()["id"]
    detail = reverse("api:transaction-detail", args=[pk])
    auth_client.patch(detail, {"amount": "55", "category": category.pk})
    auth_client.patch(detail, {"type": "INCOME"})

    history = auth_client.get(history_url(pk))
    assert history.status_code == 200
    entries = history.json()
    assert [e["action"] for e in entries] == ["created", "updated", "updated"]
    assert all(e["by"] == user.email for e in entries)
    assert entries[0]["values"]["amount"] == "-50.00"
    assert entries[0]["changes"] == []
    assert entries[1]["changes"] == [
        {"field": "amount", "before": "-50.00", "after": "-55.00"},
        {"field": "category", "before": None, "after": category.pk},
    ]
    assert entries[2]["changes"] == [
        {"field": "type", "before": "EXPENSE", "after": "INCOME"},
        {"field": "amount", "before": "-55.00", "after": "55.00"},
    ]
    assert entries[2]["values"]["version"] == 3


def test_a_deleted_transactions_history_stays_readable_by_its_owner(auth_client):
    pk = auth_client.post(EXPENSES, {"description": "gone", "amount": "5"}).json()["id"]
    auth_client.delete(reverse("api:transaction-detail", args=[pk]))
    entries = auth_client.get(history_url(pk)).json()
    assert [e["action"] for e in entries] == ["created", "deleted"]
    assert entries[-1]["values"]["description"] == "gone"


def test_nobody_else_reads_it(auth_client, other_client):
    pk = auth_client.post(EXPENSES, {"description": "mine", "amount": "5"}).json()["id"]
    response = other_client.get(history_url(pk))
    assert response.status_code == 404
    assert "mine" not in response.content.decode()
    assert other_client.get(history_url(10**9)).status_code == 404


def test_every_member_of_the_ledger_reads_it_with_who_made_each_change(
    auth_client, user, other_user, other_client, api_client
):
    household = SharedLedgerFactory(owner=user)
    add_member(household, other_user, Role.EDITOR)
    viewer = UserFactory()
    membership = add_member(household, viewer, Role.VIEWER)
    api_client.credentials(HTTP_AUTHORIZATION=bearer(viewer))
    account = household.accounts.get()
    pk = auth_client.post(
        EXPENSES, {"description": "shared", "amount": "5", "account": account.pk}
    ).json()["id"]
    detail = reverse("api:transaction-detail", args=[pk])
    assert other_client.patch(detail, {"amount": "6"}).status_code == 200
    for client in (auth_client, other_client, api_client):
        entries = client.get(history_url(pk)).json()
        assert [(e["action"], e["by"]) for e in entries] == [
            ("created", user.email),
            ("updated", other_user.email),
        ]
        assert entries[0]["values"]["account"] == account.pk
    assert other_client.delete(detail).status_code == 204
    assert [e["by"] for e in api_client.get(history_url(pk)).json()] == [
        user.email,
        other_user.email,
        other_user.email,
    ]
    # Once out of the ledger, the viewer reads it no more: as if it never was.
    services.member_remove(membership=membership, actor=user)
    gone = api_client.get(history_url(pk))
    assert gone.status_code == 404
    assert gone.json() == api_client.get(history_url(10**9)).json()


def test_staff_restore_a_deleted_transaction_from_the_admin(auth_client, client, category):
    pk = auth_client.post(
        EXPENSES, {"description": "restore me", "amount": "12.34", "category": category.pk}
    ).json()["id"]
    auth_client.delete(reverse("api:transaction-detail", args=[pk]))
    assert not Transaction.objects.filter(pk=pk).exists()

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    history_admin = reverse("admin:ledger_historicaltransaction_changelist")
    listing = client.get(history_admin, {"history_type__exact": "-"})
    assert "restore me" in listing.content.decode()
    record = Transaction.history.get(id=pk, history_type="-")
    response = client.post(
        history_admin, {"action": "restore_deleted", "_selected_action": [record.history_id]}
    )
    assert response.status_code == 302

    restored = Transaction.objects.get(pk=pk)
    assert (restored.description, restored.amount, restored.category) == (
        "restore me",
        Decimal("-12.34"),
        category,
    )
    assert restored.version == record.version + 1
    actions = [e["action"] for e in auth_client.get(history_url(pk)).json()]
    assert actions == ["created", "deleted", "created"]
    # A second restore of the same deletion does nothing.
    client.post(
        history_admin, {"action": "restore_deleted", "_selected_action": [record.history_id]}
    )
    assert Transaction.objects.filter(pk=pk).count() == 1


def test_a_restored_transaction_leaves_a_deleted_schedule_behind(client, user, time_machine):
    """Restoring a posted transaction whose schedule was deleted since brings it back without
    the schedule (and its occurrence), not a 500."""
    time_machine.move_to(datetime.datetime(2027, 1, 5, 12, tzinfo=datetime.UTC), tick=False)
    schedule = schedules.schedule_create(
        actor=user,
        account=main_account(user),
        type="EXPENSE",
        description="Gym",
        amount=Decimal("30"),
        start_date=datetime.date(2027, 1, 5),
        rule={"freq": "monthly"},
    )
    assert schedules.schedules_post_due() == 1
    tx = Transaction.objects.get(schedule=schedule)
    pk = tx.pk
    with unit_of_work(tx.ledger_id):
        tx.delete()
    schedules.schedule_delete(schedule=schedule, actor=user)

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    record = Transaction.history.get(id=pk, history_type="-")
    response = client.post(
        reverse("admin:ledger_historicaltransaction_changelist"),
        {"action": "restore_deleted", "_selected_action": [record.history_id]},
    )
    assert response.status_code == 302
    restored = Transaction.objects.get(pk=pk)
    assert (restored.description, restored.schedule, restored.occurrence_date) == (
        "Gym",
        None,
        None,
    )


def test_admin_edits_are_recorded_with_the_staff_user(client, make_tx):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    tx = make_tx(description="before")
    response = client.post(
        reverse("admin:ledger_transaction_change", args=[tx.pk]),
        {
            "account": tx.account_id,
            "status": "pending",
            "type": "EXPENSE",
            "description": "after",
            "amount": "10",
            "date": "2026-11-01",
        },
    )
    assert response.status_code == 302, response.content
    last = Transaction.history.filter(id=tx.pk).order_by("-history_id").first()
    assert (last.history_type, last.description, last.history_user) == ("~", "after", staff)
    assert client.get(reverse("admin:ledger_transaction_history", args=[tx.pk])).status_code == 200


def test_each_history_reads_its_own_rows(make_tx):
    first, second = make_tx(description="first"), make_tx(description="second")
    second.description = "second, edited"
    with unit_of_work(second.ledger_id):
        second.save()
    assert [h.description for h in first.history.all()] == ["first"]
    assert [(h.history_type, h.description) for h in second.history.order_by("history_id")] == [
        ("+", "second"),
        ("~", "second, edited"),
    ]
    assert second.history.most_recent().description == "second, edited"
    assert Transaction.history.filter(id__in=[first.pk, second.pk]).count() == 3
