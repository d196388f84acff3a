import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


def test_schema_generates_without_warnings_and_validates():
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--file",
            "/dev/null",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "cashman_site.settings.test"},
    )
    assert result.returncode == 0, result.stderr


def test_schema_json_has_jwt_security_and_error_responses(client):
    response = client.get(reverse("schema"), {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["components"]["securitySchemes"]["jwtAuth"]["scheme"] == "bearer"
    detail = schema["paths"]["/api/v1/transactions/{id}/"]
    assert {"200", "400", "401", "403", "404", "415"} <= set(detail["put"]["responses"])
    assert {"204", "401", "404", "412", "503"} <= set(detail["delete"]["responses"])
    assert "If-Match" in {p["name"] for p in detail["patch"]["parameters"]}
    create = schema["paths"]["/api/v1/expenses/"]["post"]
    assert {"201", "400", "409", "422"} <= set(create["responses"])
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"]}
    listing = schema["paths"]["/api/v1/transactions/"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {
        "type",
        "date_after",
        "date_before",
        "category",
        "amount_min",
        "amount_max",
        "search",
        "ordering",
        "page",
        "page_size",
    }
    register = schema["paths"]["/api/v1/auth/register/"]["post"]
    assert "401" not in register["responses"]
    assert "400" in register["responses"]


@pytest.mark.parametrize("url", ["swagger-ui", "redoc"])
def test_docs_pages_use_local_assets(client, url):
    response = client.get(reverse(url))
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn.jsdelivr.net" not in html


def test_the_summary_is_one_object_and_paginated_lists_document_their_404(client):
    # Found by schemathesis: the summary was documented as a list, and "Invalid page." not at all.
    schema = client.get(reverse("schema"), {"format": "json"}).json()
    summary = schema["paths"]["/api/v1/summary/"]["get"]["responses"]["200"]
    assert summary["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Summary"
    }
    for path in ("/api/v1/transactions/", "/api/v1/categories/", "/api/v1/users/"):
        assert "404" in schema["paths"][path]["get"]["responses"]
    assert "404" not in schema["paths"]["/api/v1/summary/monthly/"]["get"]["responses"]


def _resolve(schema: dict, spec: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if "allOf" in schema and len(schema["allOf"]) == 1:  # drf-spectacular wraps nullable refs
        return {**_resolve(schema["allOf"][0], spec), "nullable": schema.get("nullable", False)}
    return schema


def _undocumented_nulls(value, schema: dict, spec: dict, where: str) -> list[str]:
    schema = _resolve(schema, spec)
    if value is None:
        return [] if schema.get("nullable") else [where]
    found = []
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for key, item in value.items():
            found += _undocumented_nulls(item, properties.get(key, {}), spec, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _undocumented_nulls(item, schema.get("items", {}), spec, f"{where}[{index}]")
    return found


def _schema(client) -> dict:
    return client.get(reverse("schema"), {"format": "json"}).json()


def _properties(spec: dict, name: str) -> set[str]:
    return set(spec["components"]["schemas"][name]["properties"])


#: The households' endpoints (issue 22): each path, its methods and responses they document.
HOUSEHOLDS = {
    "/api/v1/ledgers/": {"get": {"200", "401"}, "post": {"201", "400", "401"}},
    "/api/v1/ledgers/{id}/": {
        "get": {"200", "401", "404"},
        "put": {"200", "400", "403", "404", "412"},
        "patch": {"200", "400", "403", "404", "412"},
        "delete": {"204", "403", "404", "409", "412"},
    },
    "/api/v1/ledgers/{ledger_pk}/members/": {"get": {"200", "401", "404"}},
    "/api/v1/ledgers/{ledger_pk}/members/{user_id}/": {
        "get": {"200", "404"},
        "patch": {"200", "400", "403", "404", "409"},
        "delete": {"204", "403", "404", "409"},
    },
    "/api/v1/ledgers/{ledger_pk}/invitations/": {
        "get": {"200", "403", "404"},
        "post": {"201", "400", "403", "404", "409"},
    },
    "/api/v1/ledgers/{ledger_pk}/invitations/{id}/": {"delete": {"204", "403", "404"}},
    "/api/v1/invitations/": {"get": {"200", "401"}},
    "/api/v1/invitations/{id}/accept/": {"post": {"200", "404", "409"}},
    "/api/v1/invitations/{id}/decline/": {"post": {"200", "404", "409"}},
    "/api/v1/accounts/": {"get": {"200", "400", "401"}, "post": {"201", "400", "403"}},
    "/api/v1/accounts/{id}/": {
        "get": {"200", "404"},
        "put": {"200", "400", "403", "404", "412"},
        "patch": {"200", "400", "403", "404", "412"},
        "delete": {"204", "403", "404", "409", "412"},
    },
    "/api/v1/accounts/{id}/reconcile/": {"post": {"200", "400", "403", "404", "409"}},
    "/api/v1/transfers/": {"get": {"200", "401"}, "post": {"201", "400", "403"}},
    "/api/v1/transfers/{id}/": {
        "get": {"200", "404"},
        "put": {"200", "400", "403", "404", "409", "412"},
        "patch": {"200", "400", "403", "404", "409", "412"},
        "delete": {"204", "403", "404", "409", "412"},
    },
}


def test_the_households_endpoints_are_documented(client):
    spec = _schema(client)
    for path, methods in HOUSEHOLDS.items():
        assert path in spec["paths"], path
        operations = spec["paths"][path]
        for method, responses in methods.items():
            assert method in operations, f"{method.upper()} {path}"
            assert responses <= set(operations[method]["responses"]), f"{method.upper()} {path}"
            if method != "get":
                assert operations[method]["security"], f"{method.upper()} {path}"
    # What may not be done is not documented either.
    assert set(spec["paths"]["/api/v1/invitations/{id}/accept/"]) <= {"post", "parameters"}
    assert "put" not in spec["paths"]["/api/v1/ledgers/{ledger_pk}/members/{user_id}/"]
    for path in ("/api/v1/ledgers/{id}/", "/api/v1/accounts/{id}/", "/api/v1/transfers/{id}/"):
        for method in ("patch", "delete"):
            names = {p["name"] for p in spec["paths"][path][method]["parameters"]}
            assert "If-Match" in names, f"{method.upper()} {path}"


def test_the_households_shapes_are_documented(client):
    spec = _schema(client)
    assert _properties(spec, "Ledger") >= {"id", "name", "role", "personal", "created_at"}
    assert _properties(spec, "Member") == {"user", "email", "name", "role", "created_at"}
    assert _properties(spec, "Invitation") >= {
        "id",
        "ledger",
        "email",
        "role",
        "status",
        "expires_at",
    }
    assert _properties(spec, "InvitationRequest") >= {"email", "role"}
    assert _properties(spec, "PatchedMemberRequest") == {"role"}
    assert _properties(spec, "Account") >= {
        "id",
        "ledger",
        "name",
        "kind",
        "opening_balance",
        "opening_date",
        "archived",
        "balance",
        "cleared_balance",
    }
    assert _properties(spec, "ReconcileRequest") == {"statement_date", "statement_balance"}
    assert _properties(spec, "Reconciled") == {"reconciled", "account"}
    assert _properties(spec, "Transfer") >= {
        "id",
        "from_account",
        "to_account",
        "amount",
        "date",
        "description",
        "from_transaction",
        "to_transaction",
        "created_at",
    }
    assert _properties(spec, "Transaction") >= {"account", "ledger", "status", "transfer"}
    assert _properties(spec, "Category") >= {"ledger"}
    assert _properties(spec, "Summary") >= {"transfers_in", "transfers_out", "balance", "count"}
    roles = spec["components"]["schemas"]["RoleEnum"]["enum"]
    assert set(roles) == {"owner", "editor", "viewer"}
    members = spec["paths"]["/api/v1/ledgers/{ledger_pk}/members/"]["get"]["responses"]["200"]
    assert _resolve(members["content"]["application/json"]["schema"], spec)["items"] == {
        "$ref": "#/components/schemas/Member"
    }

    # The new filters.
    def parameters(path: str) -> set[str]:
        return {p["name"] for p in spec["paths"][path]["get"]["parameters"]}

    assert parameters("/api/v1/transactions/") >= {"ledger", "account", "status"}
    assert parameters("/api/v1/accounts/") >= {"ledger", "archived"}
    assert parameters("/api/v1/categories/") >= {"ledger"}


def test_a_failed_reconciliation_documents_its_difference(client):
    """accounts/{id}/reconcile/ answers a 409 with the difference, the account's cleared balance
    and the statement's: a client reads them from the schema."""
    spec = _schema(client)
    conflict = spec["paths"]["/api/v1/accounts/{id}/reconcile/"]["post"]["responses"]["409"]
    schema = _resolve(conflict["content"]["application/json"]["schema"], spec)
    assert set(schema["properties"]) >= {
        "detail",
        "difference",
        "cleared_balance",
        "statement_balance",
    }


def test_every_null_a_response_carries_is_documented_as_nullable(
    client, auth_client, user, other_user
):
    # Found by schemathesis: an uncategorised transaction's category_name was null, documented
    # as a string.
    from decimal import Decimal

    from ledger import services
    from ledger.choices import Role
    from ledger.tests.factories import (
        CategoryFactory,
        SharedLedgerFactory,
        TransactionFactory,
        add_member,
        main_account,
    )

    uncategorised = TransactionFactory(owner=user, category=None)
    TransactionFactory(owner=user, category=CategoryFactory(owner=user))
    household = SharedLedgerFactory(owner=user)
    add_member(household, other_user, Role.VIEWER)
    transfer = services.transfer_create(
        actor=user,
        from_account=main_account(user),
        to_account=household.accounts.get(),
        amount=Decimal("5"),
    )
    services.invitation_create(
        ledger=household, actor=user, email="guest@example.com", role=Role.VIEWER
    )
    theirs = SharedLedgerFactory(owner=other_user)
    invitation = services.invitation_create(
        ledger=theirs, actor=other_user, email=user.email, role=Role.EDITOR
    )
    account = main_account(user)
    spec = client.get(reverse("schema"), {"format": "json"}).json()
    paths = {
        "/api/v1/transactions/": None,
        f"/api/v1/transactions/{uncategorised.pk}/": "/api/v1/transactions/{id}/",
        f"/api/v1/{uncategorised.type.lower()}s/": None,
        f"/api/v1/{uncategorised.type.lower()}s/{uncategorised.pk}/": (
            f"/api/v1/{uncategorised.type.lower()}s/{{id}}/"
        ),
        "/api/v1/categories/": None,
        "/api/v1/summary/": None,
        "/api/v1/summary/monthly/": None,
        "/api/v1/summary/by-category/": None,
        "/api/v1/imports/": None,
        "/api/v1/auth/me/": None,
        "/api/v1/ledgers/": None,
        f"/api/v1/ledgers/{household.pk}/": "/api/v1/ledgers/{id}/",
        f"/api/v1/ledgers/{household.pk}/members/": "/api/v1/ledgers/{ledger_pk}/members/",
        f"/api/v1/ledgers/{household.pk}/members/{other_user.pk}/": (
            "/api/v1/ledgers/{ledger_pk}/members/{user_id}/"
        ),
        f"/api/v1/ledgers/{household.pk}/invitations/": (
            "/api/v1/ledgers/{ledger_pk}/invitations/"
        ),
        "/api/v1/invitations/": None,
        f"/api/v1/invitations/{invitation.pk}/": "/api/v1/invitations/{id}/",
        "/api/v1/accounts/": None,
        f"/api/v1/accounts/{account.pk}/": "/api/v1/accounts/{id}/",
        "/api/v1/transfers/": None,
        f"/api/v1/transfers/{transfer.pk}/": "/api/v1/transfers/{id}/",
    }
    checked = 0
    for path, template in paths.items():
        response = auth_client.get(path)
        assert response.status_code == 200, path
        schema = spec["paths"][template or path]["get"]["responses"]["200"]["content"][
            "application/json"
        ]
        assert _undocumented_nulls(response.json(), schema["schema"], spec, path) == []
        checked += 1
    assert checked == len(paths)
