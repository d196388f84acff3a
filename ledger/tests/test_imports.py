"""CSV and JSON imports, run in-process (no broker configured): the same code a worker runs."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from ledger.choices import Role
from ledger.models import Category, ImportJob, Transaction
from ledger.tests.factories import (
    AccountFactory,
    SharedLedgerFactory,
    add_member,
    main_account,
    personal_ledger,
)

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
        for t in Transaction.objects.filter(account=main_account(user))
    }
    assert rows == {
        "Salary": ("INCOME", Decimal("3000.00"), "Work", None),
        "Groceries": ("EXPENSE", Decimal("-54.20"), "food", None),
        "Refund": ("INCOME", Decimal("12.00"), "food", None),
        "Cinema": ("EXPENSE", Decimal("-15.00"), None, "bank-77"),
    }
    assert job["account"] == main_account(user).pk
    assert set(Transaction.objects.values_list("created_by", "status")) == {(user.pk, "pending")}
    names = Category.objects.filter(ledger=personal_ledger(user)).values_list("name", flat=True)
    assert sorted(names) == [
        "Work",
        "food",
    ]


def test_importing_the_same_file_twice_adds_nothing(auth_client, user, upload):
    upload(auth_client, CSV)
    job = job_of(auth_client, upload(auth_client, CSV))
    assert (job["created_count"], job["duplicate_count"]) == (0, 4)
    assert Transaction.objects.filter(account=main_account(user)).count() == 4


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
    assert Transaction.objects.filter(account=main_account(user)).count() == 4


def test_imports_run_in_batches_with_a_query_count_that_does_not_grow_per_row(
    auth_client, settings, django_assert_max_num_queries, upload
):
    settings.CASHMAN_IMPORT_BATCH_SIZE = 100
    lines = "".join(f"2026-10-{1 + i % 28:02d},row {i},-{i + 1}.00\n" for i in range(1000))
    # 10 batches of a fixed number of queries each (one of them the uploader's role, read again
    # for every batch; on SQLite, its bound-parameter limit splits a batch's inserts in two or
    # three a table), and the upload's own.
    with django_assert_max_num_queries(170):
        job = job_of(auth_client, upload(auth_client, "date,description,amount\n" + lines))
    assert job["created_count"] == 1000


@pytest.fixture
def upload_into(django_capture_on_commit_callbacks):
    """POST a CSV to imports/ naming an account, running what it queues (as `upload` does)."""

    def post(client, account, content=CSV):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                IMPORTS,
                {"file": SimpleUploadedFile("bank.csv", content.encode()), "account": account},
                format="multipart",
            )

    return post


class TestAccounts:
    def test_a_csv_goes_into_the_account_named(self, auth_client, user, upload_into):
        savings = AccountFactory(owner=user, name="Savings")
        job = job_of(auth_client, upload_into(auth_client, savings.pk))
        assert (job["status"], job["account"], job["created_count"]) == ("succeeded", savings.pk, 4)
        assert Transaction.objects.filter(account=savings).count() == 4
        assert not Transaction.objects.filter(account=main_account(user)).exists()

    def test_an_editor_imports_into_a_shared_ledger_with_its_categories(
        self, auth_client, user, other_user, upload_into
    ):
        household = SharedLedgerFactory(owner=other_user)
        add_member(household, user, Role.EDITOR)
        joint = household.accounts.get()
        job = job_of(auth_client, upload_into(auth_client, joint.pk))
        assert job["created_count"] == 4
        rows = Transaction.objects.filter(account=joint)
        assert set(rows.values_list("ledger", "created_by")) == {(household.pk, user.pk)}
        assert set(Category.objects.values_list("ledger", flat=True)) == {household.pk}
        assert ImportJob.objects.get().owner == user

    def test_the_same_file_into_two_accounts_lands_in_both(
        self, auth_client, user, upload, upload_into
    ):
        savings = AccountFactory(owner=user, name="Savings")
        upload(auth_client, CSV)
        job = job_of(auth_client, upload_into(auth_client, savings.pk))
        assert (job["created_count"], job["duplicate_count"]) == (4, 0)

    def test_a_viewers_import_is_403_and_records_no_job(
        self, auth_client, user, other_user, upload_into
    ):
        household = SharedLedgerFactory(owner=other_user)
        add_member(household, user, Role.VIEWER)
        response = upload_into(auth_client, household.accounts.get().pk)
        assert response.status_code == 403
        assert not ImportJob.objects.exists()
        assert not Transaction.objects.exists()

    def test_an_account_of_a_ledger_one_is_not_in_is_400_like_none_at_all(
        self, auth_client, other_user, upload_into
    ):
        theirs = upload_into(auth_client, main_account(other_user).pk)
        missing = upload_into(auth_client, 999_999)
        assert theirs.status_code == missing.status_code == 400
        assert theirs.json()["account"][0].replace(str(main_account(other_user).pk), "N") == (
            missing.json()["account"][0].replace("999999", "N")
        )
        assert not ImportJob.objects.exists()

    def test_an_archived_account_is_400(self, auth_client, user, upload_into):
        closed = AccountFactory(owner=user, name="Closed", archived=True)
        response = upload_into(auth_client, closed.pk)
        assert response.status_code == 400
        assert "archived" in response.json()["account"][0]
        assert not ImportJob.objects.exists()

    def test_a_transfer_row_of_a_csv_is_invalid(self, auth_client, user, upload):
        content = (
            "date,description,amount,type\n2026-11-01,to savings,-5,TRANSFER\n2026-11-01,ok,5,\n"
        )
        job = job_of(auth_client, upload(auth_client, content))
        assert (job["created_count"], job["invalid_count"]) == (1, 1)
        assert "JSON export" in job["errors"][0]["errors"]["type"][0]

    def test_the_import_csv_command_takes_an_account(self, user, other_user, tmp_path):
        path = tmp_path / "bank.csv"
        path.write_text(CSV)
        savings = AccountFactory(owner=user, name="Savings")
        out = StringIO()
        call_command("import_csv", str(path), user=user.email, account=savings.pk, stdout=out)
        assert "succeeded: 4 created" in out.getvalue()
        assert Transaction.objects.filter(account=savings).count() == 4
        with pytest.raises(CommandError, match="No account"):
            call_command(
                "import_csv", str(path), user=user.email, account=main_account(other_user).pk
            )
