"""CSV and JSON imports, run in-process (no broker configured): the same code a worker runs."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from ledger.models import Category, ImportJob, Transaction

pytestmark = pytest.mark.django_db

IMPORTS = reverse("api:import-list")

CSV = (
    "date,description,amount,type,category,external_id\n"
    "2026-11-01,Salary,3000,,Work,\n"
    "2026-11-02,Groceries,-54.20,,food,\n"
    "2026-11-03,Refund,12.00,INCOME,Food,\n"
    "2026-11-03,Cinema,15,EXPENSE,,bank-77\n"
)


def job_of(client, response) -> dict:
    assert response.status_code == 202, response.content
    return client.get(reverse("api:import-detail", args=[response.json()["id"]])).json()


def test_a_csv_is_imported_with_signs_types_and_categories(auth_client, user, upload):
    job = job_of(auth_client, upload(auth_client, CSV))
    assert job["status"] == "succeeded"
    assert (job["created_count"], job["duplicate_count"], job["invalid_count"]) == (4, 0, 0)
    assert job["rows_total"] == 4 and job["progress"] == 1.0
    rows = {
        t.description: (t.type, t.amount, t.category.name if t.category else None, t.external_id)
        for t in Transaction.objects.filter(owner=user)
    }
    assert rows == {
        "Salary": ("INCOME", Decimal("3000.00"), "Work", None),
        "Groceries": ("EXPENSE", Decimal("-54.20"), "food", None),
        "Refund": ("INCOME", Decimal("12.00"), "food", None),
        "Cinema": ("EXPENSE", Decimal("-15.00"), None, "bank-77"),
    }
    assert sorted(Category.objects.filter(owner=user).values_list("name", flat=True)) == [
        "Work",
        "food",
    ]


def test_importing_the_same_file_twice_adds_nothing(auth_client, user, upload):
    upload(auth_client, CSV)
    job = job_of(auth_client, upload(auth_client, CSV))
    assert (job["created_count"], job["duplicate_count"]) == (0, 4)
    assert Transaction.objects.filter(owner=user).count() == 4


def test_invalid_rows_are_reported_by_row_and_the_rest_imported(auth_client, user, upload):
    content = (
        "date,description,amount,type\n"
        "2026-11-01,ok,10,\n"
        "01/11/2026,bad date,10,\n"
        "2026-11-02,bad amount,ten,\n"
        "2026-11-02,,10,\n"
        "2026-11-02,negative income,-5,INCOME\n"
        "2026-11-02,too precise,1.234,\n"
        "2026-11-02,zero,0,\n"
    )
    job = job_of(auth_client, upload(auth_client, content))
    assert (job["created_count"], job["invalid_count"]) == (1, 6)
    errors = {e["row"]: set(e["errors"]) for e in job["errors"]}
    assert errors == {
        3: {"date"},
        4: {"amount"},
        5: {"description"},
        6: {"amount"},
        7: {"amount"},
        8: {"amount"},
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"date,description,amount\n", "no rows"),
        (b"date,amount\n2026-11-01,5\n", "Missing column(s): description"),
        ("date,description,amount\n2026-11-01,caf\xe9,5\n".encode("latin-1"), "not UTF-8"),
        (b"PK\x03\x04\x00\x00binary zip", "not a text file"),
        (b'{"not": "an export"}', "not a Cashman export"),
    ],
)
def test_bad_files_are_400_and_create_nothing(auth_client, content, message, upload):
    response = upload(auth_client, content)
    assert response.status_code == 400
    assert message in response.json()["file"][0]
    assert not ImportJob.objects.exists()
    assert not Transaction.objects.exists()


def test_a_file_over_the_limit_is_400(auth_client, settings, upload):
    settings.CASHMAN_IMPORT_MAX_BYTES = 50
    response = upload(auth_client, CSV)
    assert response.status_code == 400
    assert "larger than the limit" in response.json()["file"][0]


def test_no_file_is_400(auth_client):
    assert auth_client.post(IMPORTS, {}, format="multipart").status_code == 400


def test_nobody_sees_anothers_imports(auth_client, other_client, upload):
    job_id = upload(auth_client, CSV).json()["id"]
    assert other_client.get(reverse("api:import-detail", args=[job_id])).status_code == 404
    assert other_client.get(IMPORTS).json()["count"] == 0
    assert auth_client.get(IMPORTS).json()["count"] == 1


def test_an_import_is_idempotent_with_a_key(auth_client, upload):
    first = upload(auth_client, CSV, HTTP_IDEMPOTENCY_KEY="imp-1")
    again = upload(auth_client, CSV, HTTP_IDEMPOTENCY_KEY="imp-1")
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert ImportJob.objects.count() == 1
    other_file = upload(auth_client, CSV.replace("Salary", "Wage"), HTTP_IDEMPOTENCY_KEY="imp-1")
    assert other_file.status_code == 422


def test_import_csv_command_runs_the_same_code(user, tmp_path):
    path = tmp_path / "bank.csv"
    path.write_text(CSV)
    out = StringIO()
    call_command("import_csv", str(path), user=user.email, stdout=out)
    assert "succeeded: 4 created, 0 duplicates, 0 invalid of 4 rows." in out.getvalue()
    assert "[####" in out.getvalue()
    assert Transaction.objects.filter(owner=user).count() == 4


def test_imports_run_in_batches_with_a_query_count_that_does_not_grow_per_row(
    auth_client, settings, django_assert_max_num_queries, upload
):
    settings.CASHMAN_IMPORT_BATCH_SIZE = 100
    lines = "".join(f"2026-10-{1 + i % 28:02d},row {i},-{i + 1}.00\n" for i in range(1000))
    with django_assert_max_num_queries(150):
        job = job_of(auth_client, upload(auth_client, "date,description,amount\n" + lines))
    assert job["created_count"] == 1000
