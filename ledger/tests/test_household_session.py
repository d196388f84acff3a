"""The README's "A shared household with curl", step by step, as a client would run it."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from ledger.models import Transaction

B = "/api/v1"
PASSWORD = "a-long-Passphrase-42"


def signed_in(email: str) -> APIClient:
    client = APIClient()
    registered = client.post(f"{B}/auth/register/", {"email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.content
    tokens = client.post(f"{B}/auth/token/", {"email": email, "password": PASSWORD}).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client


def rows(answer) -> list:
    body = answer.json()
    return body["results"] if isinstance(body, dict) and "results" in body else body


@pytest.mark.django_db
def test_the_readmes_shared_household_session(django_capture_on_commit_callbacks, mailoutbox):
    ada = signed_in("ada@example.com")
    assert (
        ada.post(f"{B}/incomes/", {"description": "lottery", "amount": 1000.0}).status_code == 201
    )
    personal = rows(ada.get(f"{B}/accounts/"))[0]

    home = ada.post(f"{B}/ledgers/", {"name": "Home"}, format="json").json()
    assert (home["name"], home["role"], home["personal"]) == ("Home", "owner", False)
    [main] = rows(ada.get(f"{B}/accounts/", {"ledger": home["id"]}))
    assert (main["name"], main["balance"]) == ("Main", "0.00")
    savings = ada.post(
        f"{B}/accounts/",
        {"ledger": home["id"], "name": "Savings", "kind": "savings", "opening_balance": "500"},
        format="json",
    ).json()
    assert (savings["balance"], savings["cleared_balance"]) == ("500.00", "500.00")

    with django_capture_on_commit_callbacks(execute=True):
        invited = ada.post(
            f"{B}/ledgers/{home['id']}/invitations/",
            {"email": "grace@example.com", "role": "editor"},
            format="json",
        )
    assert invited.status_code == 201
    assert [m.to for m in mailoutbox if "Home" in m.subject] == [["grace@example.com"]]
    grace = signed_in("grace@example.com")
    [invitation] = rows(grace.get(f"{B}/invitations/"))
    assert invitation["ledger_name"] == "Home"
    [invitation_mail] = [m for m in mailoutbox if "Home" in m.subject]
    token = invitation_mail.body.split('"token": "')[1].split('"')[0]
    accepted = grace.post(
        f"{B}/invitations/{invitation['id']}/accept/", {"token": token}, format="json"
    )
    assert accepted.status_code == 200

    transfer = ada.post(
        f"{B}/transfers/",
        {
            "from_account": personal["id"],
            "to_account": savings["id"],
            "amount": "100",
            "date": "2026-12-01",
            "description": "Savings",
        },
        format="json",
    )
    assert transfer.status_code == 201, transfer.content
    legs = transfer.json()
    assert legs["amount"] == "100.00"
    assert Transaction.objects.get(pk=legs["from_transaction"]).amount == Decimal("-100.00")

    groceries = grace.post(
        f"{B}/expenses/",
        {"account": main["id"], "description": "groceries", "amount": "42.50"},
        format="json",
    )
    assert groceries.status_code == 201
    assert grace.get(f"{B}/summary/", {"ledger": home["id"]}).json() == {
        "income": "0.00",
        "expense": "-42.50",
        "balance": "-42.50",
        "transfers_in": "100.00",
        "transfers_out": "0.00",
        "count": 2,
    }

    cleared = ada.patch(
        f"{B}/transactions/{legs['to_transaction']}/", {"status": "cleared"}, format="json"
    )
    assert cleared.status_code == 200
    reconciled = ada.post(
        f"{B}/accounts/{savings['id']}/reconcile/",
        {"statement_date": "2026-12-31", "statement_balance": "600.00"},
        format="json",
    )
    assert reconciled.status_code == 200, reconciled.content
    assert reconciled.json()["reconciled"] == 1
    assert reconciled.json()["account"]["cleared_balance"] == "600.00"

    grace_id = grace.get(f"{B}/auth/me/").json()["id"]
    demoted = ada.patch(
        f"{B}/ledgers/{home['id']}/members/{grace_id}/", {"role": "viewer"}, format="json"
    )
    assert demoted.json()["role"] == "viewer"
    refused = grace.post(
        f"{B}/expenses/",
        {"account": main["id"], "description": "more groceries", "amount": "5"},
        format="json",
    )
    assert refused.status_code == 403
