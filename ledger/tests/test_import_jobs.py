"""Every import job ends `succeeded` or `failed` with a reason a person can read, whatever
happens: bad rows, bad files, an unexpected error, a worker that dies or a message that is lost.
A resumed job never stores a row twice. Run in-process (no broker): the code a worker runs; the
real worker killed mid-import is in test_worker.py."""

import datetime
import io
import json
import logging
import os
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from ledger import imports, tasks
from ledger.models import Account, ImportJob, Transaction, Transfer
from ledger.tests.factories import AccountFactory, main_account

pytestmark = pytest.mark.django_db

IMPORTS = reverse("api:import-list")


def export_file(rows: list, categories=None, **header) -> bytes:
    """A Cashman JSON export as `export` writes it: a header line, then one row a line."""
    head = {"format": "cashman-export", "version": 1, "categories": categories or [], **header}
    lines = [json.dumps(head)[:-1] + ",", '"transactions": [']
    lines += [json.dumps(row) + ("," if i < len(rows) - 1 else "") for i, row in enumerate(rows)]
    return ("\n".join(lines) + "\n]}\n").encode()


def row(id_: int, description: str = "coffee", **values) -> dict:
    base = {"id": id_, "date": "2026-11-03", "type": "EXPENSE", "amount": "-3.20"}
    return {**base, "description": description, "category": None, "external_id": None, **values}


@pytest.fixture
def queued(auth_client, django_capture_on_commit_callbacks):
    """Upload a file and commit the job without running it, as when the broker lost (or never
    got) its message: the job stays pending."""

    def post(content: bytes, name: str = "bank.csv") -> ImportJob:
        with django_capture_on_commit_callbacks(execute=False):
            response = auth_client.post(
                IMPORTS, {"file": SimpleUploadedFile(name, content)}, format="multipart"
            )
        assert response.status_code == 202, response.content
        job = ImportJob.objects.get(pk=response.json()["id"])
        job.response = response
        return job

    return post


class WorkerDied(BaseException):
    """What a killed worker does to the code it runs: it stops, and nothing after runs."""


def die_after_first_batch(job: ImportJob) -> None:
    raise WorkerDied


def coffees(count: int) -> bytes:
    """`count` identical rows: the hardest case for counting what was already imported."""
    return b"date,description,amount\n" + b"2026-11-03,coffee,-3.20\n" * count


class TestBadRowsAndFiles:
    def test_unstorable_text_is_a_row_error_and_the_good_rows_are_imported(
        self, auth_client, user, upload
    ):
        content = export_file(
            [
                row(1, "fine"),
                row(2, "nul \u0000 inside"),
                row(3, "lone surrogate", category="\ud800"),
                row(4, "nul id", external_id="x\u0000"),
                row(5, "a list", category=["Food"]),
                row(6, "also fine"),
            ]
        )
        job = auth_client.get(
            reverse("api:import-detail", args=[upload(auth_client, content, "b.json").json()["id"]])
        ).json()
        assert job["status"] == "succeeded", job
        assert (job["created_count"], job["invalid_count"]) == (2, 4)
        errors = {e["row"]: set(e["errors"]) for e in job["errors"]}
        assert errors == {
            4: {"description"},
            5: {"category"},
            6: {"external_id"},
            7: {"category"},
        }
        assert sorted(Transaction.objects.values_list("description", flat=True)) == [
            "also fine",
            "fine",
        ]

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (export_file([row(1)], categories=5), "categories must be a list of names"),
            (export_file([row(1)], categories=["ok", 7]), "categories must be a list of names"),
            (export_file([row(1)], categories=["nul\u0000"]), "cannot store"),
            (export_file([row(1)], source=["x"]), "source must be a short text"),
            (export_file([[1, 2, 3]]), "Line 3 of the export is not a JSON object"),
            (export_file([row(1), "abc"]), "Line 4 of the export is not a JSON object"),
            (export_file([row(1), 5]), "Line 4 of the export is not a JSON object"),
            (
                export_file([row(1)])[:-4] + b",\n" + b"[" * 5000 + b"]" * 5000 + b"\n]}\n",
                "Line 4 of the export is not valid JSON",
            ),
            (b'{"format": ' + b"[" * 100_000, "not a Cashman export"),
        ],
        ids=[
            "categories-5",
            "category-not-text",
            "category-nul",
            "source-not-text",
            "row-list",
            "row-string",
            "row-number",
            "row-too-deep",
            "header-too-deep",
        ],
    )
    def test_a_file_that_cannot_be_read_is_a_400_and_creates_nothing(
        self, auth_client, upload, content, message
    ):
        response = upload(auth_client, content, "backup.json")
        assert response.status_code == 400, response.content
        assert message in response.json()["file"][0]
        assert not ImportJob.objects.exists()
        assert not Transaction.objects.exists()


class TestRowsAlike:
    def test_identical_rows_of_one_file_all_land_and_a_reimport_adds_none(
        self, auth_client, user, upload
    ):
        def created_and_duplicates(content: bytes) -> tuple[int, int]:
            job = ImportJob.objects.get(pk=upload(auth_client, content).json()["id"])
            assert job.status == "succeeded", job.failure
            return job.created_count, job.duplicate_count

        assert created_and_duplicates(coffees(2)) == (2, 0)
        assert created_and_duplicates(coffees(2)) == (0, 2)
        assert created_and_duplicates(coffees(3)) == (1, 2)  # the third coffee is new
        assert Transaction.objects.filter(account=main_account(user)).count() == 3

    def test_a_description_ending_like_a_count_is_not_mistaken_for_one(self, auth_client, upload):
        content = (
            b"date,description,amount\n2026-11-03,coffee|2,-3.20\n"
            b"2026-11-03,coffee,-3.20\n2026-11-03,coffee,-3.20\n"
        )
        job = ImportJob.objects.get(pk=upload(auth_client, content).json()["id"])
        assert (job.created_count, job.duplicate_count) == (3, 0)

    def test_a_csv_export_of_rows_alike_comes_back_whole_elsewhere(
        self, auth_client, other_client, other_user, upload
    ):
        for _ in range(2):
            auth_client.post(
                reverse("api:expense-list"),
                {"description": "coffee", "amount": "3.20", "date": "2026-11-03"},
            )
        exported = b"".join(
            auth_client.get(reverse("api:export-list"), {"format": "csv"}).streaming_content
        )
        job = ImportJob.objects.get(pk=upload(other_client, exported).json()["id"])
        assert (job.created_count, job.duplicate_count) == (2, 0)
        assert Transaction.objects.filter(account=main_account(other_user)).count() == 2

    def test_restores_of_two_ledgers_sharing_ids_keep_both(self, auth_client, user, upload):
        """Two servers' exports number their rows alike: the export's source tells them apart,
        and the same export restored twice still adds nothing."""
        first = export_file([row(1, "rent"), row(2, "coffee")], source="server-a-ledger-1")
        second = export_file([row(1, "salary"), row(2, "coffee")], source="server-b-ledger-9")
        for content, expected in ((first, 2), (second, 2), (first, 0)):
            job = ImportJob.objects.get(pk=upload(auth_client, content, "b.json").json()["id"])
            assert job.created_count == expected, job.failure
        assert sorted(Transaction.objects.values_list("description", flat=True)) == [
            "coffee",
            "coffee",
            "rent",
            "salary",
        ]

    def test_restoring_a_ledgers_own_export_brings_back_only_what_was_lost(
        self, auth_client, user, upload
    ):
        for description in ("rent", "coffee", "coffee"):
            auth_client.post(
                reverse("api:expense-list"),
                {"description": description, "amount": "3", "date": "2026-11-03"},
            )
        exported = b"".join(
            auth_client.get(reverse("api:export-list"), {"format": "json"}).streaming_content
        )
        header = json.loads(exported.split(b"\n")[0][:-1] + b"}")
        assert header["source"] == imports.export_source(user)
        lost = Transaction.objects.filter(ledger__personal_for=user, description="coffee").first()
        auth_client.delete(reverse("api:transaction-detail", args=[lost.pk]))

        def restore() -> tuple[int, int]:
            job = ImportJob.objects.get(pk=upload(auth_client, exported, "b.json").json()["id"])
            return job.created_count, job.duplicate_count

        assert restore() == (1, 2)  # the lost coffee; the rent and the other coffee are there
        assert restore() == (0, 3)
        assert sorted(Transaction.objects.values_list("description", flat=True)) == [
            "coffee",
            "coffee",
            "rent",
        ]

    def test_another_users_export_is_restored_whole(self, auth_client, other_client, upload):
        auth_client.post(reverse("api:expense-list"), {"description": "x", "amount": "1"})
        exported = b"".join(
            auth_client.get(reverse("api:export-list"), {"format": "json"}).streaming_content
        )
        job = ImportJob.objects.get(pk=upload(other_client, exported, "b.json").json()["id"])
        assert (job.created_count, job.duplicate_count) == (1, 0)


class TestInterruptedJobs:
    def test_a_job_whose_worker_died_is_resumed_and_stores_no_row_twice(
        self, queued, settings, time_machine, user
    ):
        settings.CASHMAN_IMPORT_BATCH_SIZE = 10
        time_machine.move_to(timezone.now(), tick=False)  # stopped, for shifts to be exact
        job = queued(coffees(35))
        claimed = imports.import_claim(job_id=job.pk)
        with pytest.raises(WorkerDied):
            imports.import_run(job=claimed, progress=die_after_first_batch)
        job.refresh_from_db()
        assert (job.status, job.rows_processed, job.created_count) == ("running", 10, 10)

        # While its heartbeat is fresh, nobody takes it over: it may only be slow.
        time_machine.shift(datetime.timedelta(seconds=settings.CASHMAN_IMPORT_STALE_SECONDS - 1))
        assert imports.import_recover() == []
        assert tasks.run_import(job.pk) == "not claimed"

        time_machine.shift(datetime.timedelta(seconds=2))
        assert imports.import_recover() == [job.pk]
        assert tasks.recover_imports() == 1  # in-process here: queued and run at once
        job.refresh_from_db()
        assert job.status == "succeeded", job.failure
        assert (job.rows_processed, job.created_count, job.duplicate_count) == (35, 35, 0)
        assert job.attempts == 2
        assert Transaction.objects.filter(account=main_account(user)).count() == 35
        assert imports.import_recover() == []

    def test_a_worker_taken_over_stops_without_committing_its_batch(
        self, queued, settings, time_machine, user
    ):
        settings.CASHMAN_IMPORT_BATCH_SIZE = 10
        time_machine.move_to(timezone.now(), tick=False)  # stopped, for shifts to be exact
        job = queued(coffees(35))
        successor = []

        def thought_dead(job: ImportJob) -> None:
            if not successor:  # after its first batch, it stalls long enough to be replaced
                time_machine.shift(
                    datetime.timedelta(seconds=settings.CASHMAN_IMPORT_STALE_SECONDS + 1)
                )
                successor.append(imports.import_claim(job_id=job.pk))

        first = imports.import_run(job=imports.import_claim(job_id=job.pk), progress=thought_dead)
        assert first.status == "running"  # it stopped; it did not end the job
        assert Transaction.objects.filter(account=main_account(user)).count() == 10

        done = imports.import_run(job=successor[0])
        assert done.status == "succeeded"
        assert (done.created_count, done.duplicate_count) == (35, 0)
        assert Transaction.objects.filter(account=main_account(user)).count() == 35

    def test_a_job_that_keeps_killing_its_worker_fails_with_a_reason(
        self, auth_client, queued, settings, time_machine, user
    ):
        settings.CASHMAN_IMPORT_BATCH_SIZE = 10
        settings.CASHMAN_IMPORT_MAX_ATTEMPTS = 2
        time_machine.move_to(timezone.now(), tick=False)  # stopped, for shifts to be exact
        job = queued(coffees(35))
        for _ in range(2):
            with pytest.raises(WorkerDied):
                claimed = imports.import_claim(job_id=job.pk)
                imports.import_run(job=claimed, progress=die_after_first_batch)
            time_machine.shift(
                datetime.timedelta(seconds=settings.CASHMAN_IMPORT_STALE_SECONDS + 1)
            )
        assert imports.import_claim(job_id=job.pk) is None
        answer = auth_client.get(reverse("api:import-detail", args=[job.pk])).json()
        assert answer["status"] == "failed"
        assert answer["failure"].startswith("The import's worker stopped while running it, 2 times")
        assert "after 20 rows (they are kept)" in answer["failure"]
        assert Transaction.objects.filter(account=main_account(user)).count() == 20
        assert imports.import_recover() == []

    def test_a_pending_job_whose_message_was_lost_is_queued_again(
        self, queued, settings, time_machine, user
    ):
        time_machine.move_to(timezone.now(), tick=False)  # stopped, for shifts to be exact
        job = queued(coffees(3))
        assert job.status == "pending"
        assert imports.import_recover() == []  # its message may still be on its way
        time_machine.shift(datetime.timedelta(seconds=settings.CASHMAN_IMPORT_REQUEUE_SECONDS + 1))
        assert imports.import_recover() == [job.pk]
        assert tasks.recover_imports() == 1
        job.refresh_from_db()
        assert (job.status, job.created_count) == ("succeeded", 3)
        assert tasks.run_import(job.pk) == "not claimed"  # the lost message, delivered at last


class TestEndings:
    def test_an_unexpected_error_fails_the_job_with_a_reference_and_logs_the_traceback(
        self, auth_client, queued, caplog
    ):
        job = queued(coffees(3))
        request_id = job.response["X-Request-ID"]
        Path(job.file.path).unlink()  # the upload vanished from the shared volume
        with caplog.at_level(logging.ERROR, logger="cashman.imports"):
            assert tasks.run_import(job.pk) == "failed"
        answer = auth_client.get(reverse("api:import-detail", args=[job.pk])).json()
        assert answer["status"] == "failed"
        assert answer["failure"] == imports.UNEXPECTED_FAILURE.format(rows=0, reference=request_id)
        assert "Traceback" not in json.dumps(answer)
        (record,) = [r for r in caplog.records if r.name == "cashman.imports"]
        assert record.request_id == request_id
        assert record.exc_info and record.exc_info[0] is FileNotFoundError

    @pytest.mark.parametrize(
        ("stored", "status"),
        [(None, "succeeded"), (b"date,description,amount\n2026-11-01,x,\xff\n", "failed")],
        ids=["succeeded", "failed"],
    )
    def test_the_upload_is_deleted_when_the_job_ends(self, queued, stored, status):
        job = queued(coffees(3))
        path = Path(job.file.path)
        assert path.exists()
        if stored is not None:  # the stored copy was damaged after the upload's check
            path.write_bytes(stored)
        tasks.run_import(job.pk)
        job.refresh_from_db()
        assert job.status == status
        assert not path.exists()
        assert not job.file

    def test_the_import_csv_command_claims_its_job(self, user, tmp_path):
        path = tmp_path / "bank.csv"
        path.write_bytes(coffees(2))
        call_command("import_csv", str(path), user=user.email, stdout=io.StringIO())
        job = ImportJob.objects.get()
        assert (job.status, job.attempts, job.created_count) == ("succeeded", 1, 2)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_uploads_of_the_same_file_at_once_both_finish(settings):
    """Two workers import the same bank file into one ledger at the same moment: the second
    waits for the first's batch and reports its rows as duplicates."""
    settings.CASHMAN_IMPORT_BATCH_SIZE = 50
    owner = UserFactory()
    content = b"date,description,amount\n" + b"".join(
        f"2026-10-{1 + i % 28:02d},row {i % 40},-{1 + i % 7}.00\n".encode() for i in range(400)
    )
    jobs = [
        imports.import_create(owner=owner, upload=SimpleUploadedFile("bank.csv", content))
        for _ in range(2)
    ]
    start = threading.Barrier(2)

    def run(job_id: int) -> None:
        try:
            start.wait()
            tasks.run_import(job_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job.pk,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    finished = [ImportJob.objects.get(pk=job.pk) for job in jobs]
    assert [job.status for job in finished] == ["succeeded", "succeeded"], [
        job.failure for job in finished
    ]
    assert sum(job.created_count for job in finished) == 400
    assert sum(job.duplicate_count for job in finished) == 400
    assert Transaction.objects.filter(account=main_account(owner)).count() == 400
    rows = Transaction.objects.filter(account=main_account(owner))
    total = sum(rows.values_list("amount", flat=True))
    assert total == -sum(Decimal(1 + i % 7) for i in range(400))


def account(id_: int, name: str, ledger: int = 10, **values) -> dict:
    base = {"kind": "checking", "opening_balance": "0.00", "opening_date": "2026-01-01"}
    return {"id": id_, "ledger": ledger, "name": name, "archived": False, **base, **values}


def transfer(id_: int, out: int, into: int, legs: tuple[int, int], amount="25.00") -> dict:
    return {
        "id": id_,
        "from_account": out,
        "to_account": into,
        "amount": amount,
        "date": "2026-11-04",
        "description": "Transfer",
        "from_transaction": legs[0],
        "to_transaction": legs[1],
    }


def leg(id_: int, transfer_id: int, account_id: int, amount: str, **values) -> dict:
    return row(
        id_,
        "Transfer",
        type="TRANSFER",
        amount=amount,
        account=account_id,
        transfer=transfer_id,
        **values,
    )


def restore_export(rows: list, transfers: list, accounts=None) -> bytes:
    """An export of another server: a personal ledger (10) with Main (1) and Savings (2)."""
    accounts = accounts or [account(1, "Main"), account(2, "Savings", kind="savings")]
    ledgers = [{"id": 10, "name": "Personal", "personal": True, "categories": []}]
    return export_file(
        rows, source="elsewhere", ledgers=ledgers, accounts=accounts, transfers=transfers
    )


class TestRestores:
    def test_a_transfer_whose_legs_straddle_an_interruption_is_made_once(
        self, queued, settings, time_machine, user
    ):
        """The first leg is committed with its batch, the worker dies; the resumed job reads it
        again, pairs it with the second, and counts both legs once."""
        settings.CASHMAN_IMPORT_BATCH_SIZE = 2
        time_machine.move_to(timezone.now(), tick=False)
        rows = [
            row(1, "rent", account=1),
            leg(2, 7, 1, "-25.00", status="cleared"),
            row(3, "coffee", account=2),
            leg(4, 7, 2, "25.00", category="Saving"),
            row(5, "tea", account=2),
        ]
        job = queued(restore_export(rows, [transfer(7, 1, 2, (2, 4))]), "b.json")
        with pytest.raises(WorkerDied):
            imports.import_run(
                job=imports.import_claim(job_id=job.pk), progress=die_after_first_batch
            )
        job.refresh_from_db()
        assert (job.rows_processed, job.created_count) == (2, 1)  # the leg waits for its pair
        assert not Transfer.objects.exists()

        time_machine.shift(datetime.timedelta(seconds=settings.CASHMAN_IMPORT_STALE_SECONDS + 1))
        done = imports.import_run(job=imports.import_claim(job_id=job.pk))
        assert done.status == "succeeded", done.failure
        assert (done.created_count, done.duplicate_count, done.invalid_count) == (5, 0, 0)
        made = Transfer.objects.get()
        out, into = sorted(made.legs.select_related("account", "category"), key=lambda t: t.amount)
        savings = Account.objects.get(name="Savings", ledger__personal_for=user)
        assert (out.account, out.amount, out.status) == (
            main_account(user),
            Decimal("-25.00"),
            "cleared",
        )
        assert (into.account, into.amount, into.category.name) == (
            savings,
            Decimal("25.00"),
            "Saving",
        )
        assert savings.kind == "savings"
        placed = dict(
            Transaction.objects.filter(transfer=None).values_list("description", "account")
        )
        assert placed == {"rent": main_account(user).pk, "coffee": savings.pk, "tea": savings.pk}

    def test_a_leg_alone_in_the_file_still_makes_its_whole_transfer(self, auth_client, upload):
        content = restore_export([leg(2, 7, 1, "-25.00")], [transfer(7, 1, 2, (2, 4))])
        job = ImportJob.objects.get(pk=upload(auth_client, content, "b.json").json()["id"])
        assert (job.created_count, job.duplicate_count) == (1, 0), job.errors
        assert Transfer.objects.get().legs.count() == 2
        again = ImportJob.objects.get(pk=upload(auth_client, content, "b.json").json()["id"])
        assert (again.created_count, again.duplicate_count) == (0, 1)
        assert Transfer.objects.count() == 1

    def test_a_transfer_that_cannot_be_made_again_is_invalid_not_two_rows(
        self, auth_client, upload
    ):
        """Two exported accounts of one name (in two personal ledgers) are one account here: a
        transfer between them has nowhere to go. A leg row naming no listed transfer is invalid
        too. Neither becomes plain rows."""
        accounts = [account(1, "Main"), account(2, "main", ledger=11)]
        rows = [leg(2, 7, 1, "-25.00"), leg(4, 7, 2, "25.00"), leg(5, 8, 1, "-1.00")]
        content = restore_export(rows, [transfer(7, 1, 2, (2, 4))], accounts)
        job = ImportJob.objects.get(pk=upload(auth_client, content, "b.json").json()["id"])
        assert (job.status, job.created_count, job.invalid_count) == ("succeeded", 0, 3)
        errors = {e["row"]: e["errors"] for e in job.errors}
        assert "a transfer needs two" in errors[3]["transfer"][0]
        assert "not among the export's transfers" in errors[5]["transfer"][0]
        assert not Transaction.objects.exists()

    @pytest.mark.parametrize(
        ("header", "message"),
        [
            ({"accounts": {"id": 1}}, "accounts must be a list of objects"),
            ({"accounts": [account(1, "Main", opening_balance="1.234")]}, "more than two decimal"),
            ({"accounts": [account(1, "Main", kind="vault")]}, "kind must be one of"),
            ({"transfers": [transfer(7, 1, 2, (2, 4))]}, "names an account it omits"),
            ({"ledgers": [{"id": "x", "name": "Personal"}]}, "id must be an id"),
            ({"server": 5}, "server must be a short text"),
        ],
        ids=[
            "accounts-object",
            "balance-precision",
            "kind",
            "transfer-account",
            "ledger-id",
            "server",
        ],
    )
    def test_a_header_that_cannot_be_restored_is_a_400(self, auth_client, upload, header, message):
        response = upload(auth_client, export_file([row(1)], **header), "b.json")
        assert response.status_code == 400, response.content
        assert message in response.json()["file"][0]
        assert not ImportJob.objects.exists()

    def test_an_export_goes_into_the_account_of_the_upload_where_it_names_none(
        self, auth_client, user, django_capture_on_commit_callbacks
    ):
        savings = AccountFactory(owner=user, name="Savings")
        with django_capture_on_commit_callbacks(execute=True):
            response = auth_client.post(
                IMPORTS,
                {
                    "file": SimpleUploadedFile("b.json", export_file([row(1)])),
                    "account": savings.pk,
                },
                format="multipart",
            )
        assert response.status_code == 202, response.content
        assert Transaction.objects.get().account == savings


class TestCommands:
    def test_recover_imports_runs_what_beat_runs(self, queued, settings, time_machine):
        time_machine.move_to(timezone.now(), tick=False)
        job = queued(coffees(2))
        time_machine.shift(datetime.timedelta(seconds=settings.CASHMAN_IMPORT_REQUEUE_SECONDS + 1))
        out = io.StringIO()
        call_command("recover_imports", stdout=out)
        assert out.getvalue().strip() == "1 import(s) to recover, 1 queued."
        job.refresh_from_db()
        assert (job.status, job.created_count) == ("succeeded", 2)

    def test_purge_import_files_keeps_only_what_unfinished_jobs_need(
        self, queued, settings, tmp_path
    ):
        settings.MEDIA_ROOT = tmp_path  # this test's files only
        pending = queued(coffees(2))
        ended = queued(coffees(3))
        ImportJob.objects.filter(pk=ended.pk).update(status="failed")  # ended before files went
        orphan = Path(settings.MEDIA_ROOT) / "imports" / "2020" / "01" / "left-behind.csv"
        orphan.parent.mkdir(parents=True, exist_ok=True)
        orphan.write_bytes(b"x" * 10)
        old = (timezone.now() - datetime.timedelta(hours=25)).timestamp()
        os.utime(orphan, (old, old))
        young = orphan.with_name("being-uploaded.csv")
        young.write_bytes(b"y")
        now = timezone.now().timestamp()  # the command's clock, which may not be the disk's
        os.utime(young, (now, now))

        out = io.StringIO()
        call_command("purge_import_files", stdout=out)
        assert out.getvalue().strip() == f"Deleted 2 file(s), {len(coffees(3)) + 10} bytes."
        assert Path(pending.file.path).exists()
        assert not Path(ended.file.path).exists() and not orphan.exists()
        assert young.exists()
        ended.refresh_from_db()
        assert not ended.file


def test_an_uploader_removed_from_the_ledger_mid_import_writes_no_more(
    settings, user, django_capture_on_commit_callbacks
):
    """The uploader's role is read again for every batch: a job resumed after its uploader left
    the ledger ends failed, with what it had committed before, and nothing more."""
    from ledger import services
    from ledger.choices import Role
    from ledger.tests.factories import SharedLedgerFactory, add_member

    settings.CASHMAN_IMPORT_BATCH_SIZE = 10
    owner = UserFactory()
    household = SharedLedgerFactory(owner=owner)
    account = Account.objects.get(ledger=household)
    membership = add_member(household, user, Role.EDITOR)
    with django_capture_on_commit_callbacks(execute=False):
        job = imports.import_create(
            owner=user, upload=SimpleUploadedFile("bank.csv", coffees(25)), account=account
        )
    claimed = imports.import_claim(job_id=job.pk)
    with pytest.raises(WorkerDied):
        imports.import_run(job=claimed, progress=die_after_first_batch)
    assert Transaction.objects.filter(account=account).count() == 10

    services.member_remove(membership=membership, actor=owner)
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=None)  # its worker is long gone
    resumed = imports.import_claim(job_id=job.pk)
    assert resumed is not None
    finished = imports.import_run(job=resumed)
    assert finished.status == "failed"
    assert finished.failure == imports.NO_LONGER_WRITABLE
    assert Transaction.objects.filter(account=account).count() == 10
