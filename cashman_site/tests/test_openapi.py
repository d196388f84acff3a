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


def test_every_null_a_response_carries_is_documented_as_nullable(client, auth_client, user):
    # Found by schemathesis: an uncategorised transaction's category_name was null, documented
    # as a string.
    from ledger.tests.factories import CategoryFactory, TransactionFactory

    uncategorised = TransactionFactory(owner=user, category=None)
    TransactionFactory(owner=user, category=CategoryFactory(owner=user))
    spec = client.get(reverse("schema"), {"format": "json"}).json()
    paths = [
        "/api/v1/transactions/",
        f"/api/v1/transactions/{uncategorised.pk}/",
        f"/api/v1/{uncategorised.type.lower()}s/",
        f"/api/v1/{uncategorised.type.lower()}s/{uncategorised.pk}/",
        "/api/v1/categories/",
        "/api/v1/summary/",
        "/api/v1/summary/monthly/",
        "/api/v1/summary/by-category/",
        "/api/v1/imports/",
        "/api/v1/auth/me/",
    ]
    checked = 0
    for path in paths:
        response = auth_client.get(path)
        assert response.status_code == 200, path
        template = next(
            p for p in spec["paths"] if p.replace("{id}", str(uncategorised.pk)) == path
        )
        schema = spec["paths"][template]["get"]["responses"]["200"]["content"]["application/json"]
        assert _undocumented_nulls(response.json(), schema["schema"], spec, path) == []
        checked += 1
    assert checked == len(paths)
