"""ETag and If-Match: a stale version never overwrites a newer one."""

from decimal import Decimal

import pytest
from django.urls import reverse

from ledger import services
from ledger.models import Category, Transaction
from ledger.services import unit_of_work
from ledger.tests.factories import CategoryFactory, SharedLedgerFactory, main_account
from ledger.view_mixins import etag_for

pytestmark = pytest.mark.django_db


def url(tx) -> str:
    return reverse("api:transaction-detail", args=[tx.pk])


def test_detail_carries_an_etag_that_changes_on_every_write(auth_client, make_tx):
    tx = make_tx()
    first = auth_client.get(url(tx))["ETag"]
    assert first == f'"{tx.pk}-1"'
    patched = auth_client.patch(url(tx), {"description": "new"})
    assert patched["ETag"] == f'"{tx.pk}-2"'
    assert auth_client.get(url(tx))["ETag"] == patched["ETag"]
    created = auth_client.post(reverse("api:expense-list"), {"description": "x", "amount": 1})
    assert created["ETag"] == f'"{created.json()["id"]}-1"'


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_a_stale_if_match_is_412_and_changes_nothing(auth_client, make_tx, method):
    tx = make_tx(description="original")
    stale = auth_client.get(url(tx))["ETag"]
    auth_client.patch(url(tx), {"description": "someone else's edit"})
    body = {"type": "EXPENSE", "description": "mine", "amount": "3", "date": "2026-11-02"}
    response = getattr(auth_client, method)(url(tx), body, HTTP_IF_MATCH=stale)
    assert response.status_code == 412
    assert "has changed since you read it" in response.json()["detail"]
    tx.refresh_from_db()
    assert tx.description == "someone else's edit"
    assert tx.version == 2


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_the_current_if_match_lets_the_write_through(auth_client, make_tx, method):
    tx = make_tx()
    etag = auth_client.get(url(tx))["ETag"]
    body = {"type": "EXPENSE", "description": "mine", "amount": "3", "date": "2026-11-02"}
    response = getattr(auth_client, method)(url(tx), body, HTTP_IF_MATCH=etag)
    assert response.status_code in (200, 204)
    if method == "delete":
        assert not Transaction.objects.filter(pk=tx.pk).exists()
    else:
        assert response["ETag"] == f'"{tx.pk}-2"'


@pytest.mark.parametrize("header", ['"garbage"', 'W/"1-1"', '"999999-1"'])
def test_an_if_match_for_another_object_or_malformed_is_412(auth_client, make_tx, header):
    tx = make_tx()
    response = auth_client.patch(url(tx), {"description": "x"}, HTTP_IF_MATCH=header)
    assert response.status_code == 412


def test_if_match_star_and_lists(auth_client, make_tx):
    tx = make_tx()
    assert auth_client.patch(url(tx), {"description": "a"}, HTTP_IF_MATCH="*").status_code == 200
    listed = f'"1-99", {etag_for(Transaction.objects.get(pk=tx.pk))}'
    assert auth_client.patch(url(tx), {"description": "b"}, HTTP_IF_MATCH=listed).status_code == 200


def test_without_if_match_writes_are_unconditional(auth_client, make_tx):
    tx = make_tx()
    for i in range(3):
        assert auth_client.patch(url(tx), {"description": f"v{i}"}).status_code == 200
    tx.refresh_from_db()
    assert (tx.description, tx.version) == ("v2", 4)


def test_if_none_match_gives_304(auth_client, make_tx):
    tx = make_tx()
    etag = auth_client.get(url(tx))["ETag"]
    response = auth_client.get(url(tx), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    auth_client.patch(url(tx), {"description": "changed"})
    assert auth_client.get(url(tx), HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_categories_are_versioned_too(auth_client, category):
    detail = reverse("api:category-detail", args=[category.pk])
    etag = auth_client.get(detail)["ETag"]
    assert auth_client.patch(detail, {"name": "Groceries"}, HTTP_IF_MATCH=etag).status_code == 200
    response = auth_client.patch(detail, {"name": "Other"}, HTTP_IF_MATCH=etag)
    assert response.status_code == 412
    assert auth_client.delete(detail, HTTP_IF_MATCH=etag).status_code == 412
    category.refresh_from_db()
    assert (category.name, category.version) == ("Groceries", 2)


def test_a_patch_writes_only_the_fields_it_names(auth_client, make_tx, user):
    """Without If-Match, a PATCH of the description must not undo a concurrent amount change."""
    tx = make_tx(amount=Decimal("5"))
    with unit_of_work(tx.ledger_id):
        Transaction.objects.filter(pk=tx.pk).update(amount=Decimal("-9.00"))
    assert auth_client.patch(url(tx), {"description": "renamed"}).status_code == 200
    tx.refresh_from_db()
    assert (tx.description, tx.amount) == ("renamed", Decimal("-9.00"))


def test_an_admin_save_bumps_the_version(make_tx, user):
    tx = make_tx()
    tx.description = "edited in the admin"
    services.transaction_save(transaction=tx, actor=user)
    assert Transaction.objects.get(pk=tx.pk).version == 2
    category = CategoryFactory(ledger=tx.ledger, name="C")
    category.name = "D"
    with unit_of_work(tx.ledger_id):
        category.save(update_fields=["name"])
    assert Category.objects.get(pk=category.pk).version == 2


def test_ledgers_and_accounts_are_versioned_too(auth_client, user):
    for name, pk, body in (
        ("api:ledger-detail", SharedLedgerFactory(owner=user).pk, {"name": "Renamed"}),
        ("api:account-detail", main_account(user).pk, {"name": "Current"}),
    ):
        detail = reverse(name, args=[pk])
        etag = auth_client.get(detail)["ETag"]
        assert etag == f'"{pk}-1"'
        written = auth_client.patch(detail, body, HTTP_IF_MATCH=etag)
        assert written.status_code == 200
        assert written["ETag"] == f'"{pk}-2"'
        stale = auth_client.patch(detail, {"name": "Other"}, HTTP_IF_MATCH=etag)
        assert stale.status_code == 412
        assert auth_client.delete(detail, HTTP_IF_MATCH=etag).status_code == 412
        assert auth_client.get(detail).json()["name"] == body["name"]
