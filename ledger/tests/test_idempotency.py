"""Idempotency-Key: a retried create is answered, not repeated."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from ledger.choices import Role
from ledger.models import Account, Category, IdempotencyKey, Ledger, Transaction
from ledger.tests.factories import AccountFactory, SharedLedgerFactory, add_member, main_account

pytestmark = pytest.mark.django_db

EXPENSES = reverse("api:expense-list")
BODY = {"description": "rent", "amount": "950.00", "date": "2026-11-01"}


def post(client, key, body=BODY, url=EXPENSES):
    return client.post(url, body, HTTP_IDEMPOTENCY_KEY=key)


def test_a_repeat_replays_the_stored_answer_and_creates_nothing(auth_client):
    first = post(auth_client, "key-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    again = post(auth_client, "key-1")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Transaction.objects.count() == 1


def test_the_same_key_with_another_body_is_422_and_creates_nothing(auth_client):
    post(auth_client, "key-1")
    response = post(auth_client, "key-1", {**BODY, "amount": "951.00"})
    assert response.status_code == 422
    assert "different request" in response.json()["detail"]
    assert Transaction.objects.count() == 1


def test_the_same_key_on_another_endpoint_is_422(auth_client):
    post(auth_client, "key-1")
    response = post(auth_client, "key-1", {"name": "Food"}, reverse("api:category-list"))
    assert response.status_code == 422
    assert not Category.objects.exists()


def test_keys_are_scoped_per_user(auth_client, other_client):
    assert post(auth_client, "shared-key").status_code == 201
    response = post(other_client, "shared-key")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Transaction.objects.count() == 2


def test_keys_are_per_user_within_a_shared_ledger_too(auth_client, other_client, user, other_user):
    household = SharedLedgerFactory(owner=user)
    add_member(household, other_user, Role.EDITOR)
    body = {**BODY, "account": household.accounts.get().pk}
    assert post(auth_client, "shared-key", body).status_code == 201
    response = post(other_client, "shared-key", body)
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Transaction.objects.filter(ledger=household).count() == 2


@pytest.mark.parametrize(
    "url, body",
    [
        ("api:transfer-list", "transfer"),
        ("api:account-list", {"name": "Savings"}),
        ("api:ledger-list", {"name": "Household"}),
    ],
)
def test_the_households_creates_are_idempotent_too(auth_client, user, url, body):
    if body == "transfer":
        body = {
            "from_account": main_account(user).pk,
            "to_account": AccountFactory(owner=user).pk,
            "amount": "5.00",
        }
    counts = (Transaction.objects.count(), Account.objects.count(), Ledger.objects.count())
    first = post(auth_client, "h", body, reverse(url))
    assert first.status_code == 201, first.content
    again = post(auth_client, "h", body, reverse(url))
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    grew = (Transaction.objects.count(), Account.objects.count(), Ledger.objects.count())
    # One transfer (two legs), one account, or one ledger (with its account "Main").
    assert [b - a for a, b in zip(counts, grew, strict=True)] in ([2, 0, 0], [0, 1, 0], [0, 1, 1])


def test_a_failed_request_stores_nothing_and_the_key_can_be_retried(auth_client):
    bad = post(auth_client, "key-1", {**BODY, "amount": "abc"})
    assert bad.status_code == 400
    assert not IdempotencyKey.objects.exists()
    good = post(auth_client, "key-1")
    assert good.status_code == 201
    assert Transaction.objects.count() == 1


def test_without_a_key_every_post_creates(auth_client):
    auth_client.post(EXPENSES, BODY)
    auth_client.post(EXPENSES, BODY)
    assert Transaction.objects.count() == 2


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_a_key_of_bad_length_is_400(auth_client, key):
    response = post(auth_client, key)
    assert response.status_code == 400
    assert not Transaction.objects.exists()


def test_categories_create_is_idempotent_too(auth_client):
    url = reverse("api:category-list")
    assert post(auth_client, "c", {"name": "Food"}, url).status_code == 201
    assert post(auth_client, "c", {"name": "Food"}, url).status_code == 201
    assert Category.objects.count() == 1


def test_purge_keeps_keys_for_24_hours(auth_client):
    post(auth_client, "old")
    post(auth_client, "new", {**BODY, "description": "other"})
    IdempotencyKey.objects.filter(key="old").update(
        created_at=timezone.now() - datetime.timedelta(hours=25)
    )
    out = StringIO()
    call_command("purge_idempotency_keys", stdout=out)
    assert "Deleted 1" in out.getvalue()
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_purge_refuses_less_than_24_hours():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("purge_idempotency_keys", hours=1)


def test_the_database_holds_one_key_per_user(user):
    from django.db import IntegrityError, transaction

    IdempotencyKey.objects.create(
        user=user, key="k", fingerprint="f", status_code=201, response_body={}
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        IdempotencyKey.objects.create(
            user=user, key="k", fingerprint="g", status_code=201, response_body={}
        )
