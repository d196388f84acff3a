import sys
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from ledger import imports, selectors
from ledger.models import ImportJob


class Command(BaseCommand):
    help = "Import a CSV file (or a Cashman JSON export) into a user's account, with progress."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", required=True, help="The owner's email address.")
        parser.add_argument(
            "--account",
            type=int,
            help="The id of the account to import into, in one of the user's ledgers (default: "
            "their personal ledger's first open account).",
        )

    def handle(self, *args, file: Path, user: str, account: int | None = None, **options):
        owner = User.objects.filter(email=user.strip().lower()).first()
        if owner is None:
            raise CommandError(f"No user with the email {user}.")
        target = None
        if account is not None:
            target = selectors.account_rows_for(user=owner).filter(pk=account).first()
            if target is None:
                raise CommandError(f"No account {account} in the ledgers of {user}.")
        if not file.is_file():
            raise CommandError(f"No file at {file}.")
        with file.open("rb") as handle:
            try:
                job = imports.import_create(
                    owner=owner, upload=File(handle, name=file.name), account=target
                )
            except imports.ImportFileError as exc:
                raise CommandError(str(exc)) from exc
            except (PermissionDenied, ValidationError) as exc:
                raise CommandError(f"Account {account}: {' '.join(_messages(exc))}") from exc
        claimed = imports.import_claim(job_id=job.pk)  # so that no worker takes it meanwhile
        job = imports.import_run(job=claimed, progress=self._progress) if claimed else job
        self._progress(job)
        self.stdout.write("")
        self.stdout.write(
            f"{job.status}: {job.created_count} created, {job.duplicate_count} duplicates, "
            f"{job.invalid_count} invalid of {job.rows_processed} rows."
        )
        for error in job.errors[:20]:
            self.stdout.write(f"  row {error['row']}: {error['errors']}")
        if job.status != ImportJob.Status.SUCCEEDED:
            raise CommandError(job.failure)

    def _progress(self, job: ImportJob) -> None:
        done = job.rows_processed / job.rows_total if job.rows_total else 1
        bar = "#" * int(done * 40)
        self.stdout.write(f"\r[{bar:<40}] {job.rows_processed}/{job.rows_total}", ending="")
        if hasattr(self.stdout, "flush"):
            self.stdout.flush()
        sys.stdout.flush()


def _messages(exc: Exception) -> list[str]:
    return exc.messages if isinstance(exc, ValidationError) else [str(exc)]
