"""CSV and Cashman-JSON imports: checked when uploaded, then streamed into an account in batches.

A CSV has the columns date, description, amount and optionally type, category, external_id. A
signed amount decides the type when there is no type column (or it is empty). Its rows go into
the job's account. Rows already in that account (same external id, or, without one, the same
date, amount and description) are counted as duplicates, so importing a file twice adds nothing
the second time. A JSON export's rows go to the accounts `ledger.restores` finds for them.
"""

import datetime
import logging
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import User
from ledger import bulk, scope, services
from ledger.choices import TransactionStatus, TransactionType
from ledger.export_format import (
    ExportHeader,
    export_fingerprint,
    export_server,
    unstorable,
)
from ledger.import_files import HEADER_KEY, ImportFileError, inspect_upload, iter_rows
from ledger.models import Account, ImportJob, Transaction
from ledger.restores import Destination, TransferItem

MAX_STORED_ERRORS = 1000

logger = logging.getLogger("cashman.imports")


# --- Turning a row into a transaction ---------------------------------------------------------


def _text_value(values: dict[str, Any], name: str, errors: dict[str, list[str]]) -> str:
    """A text column's value ('' when absent); an error for anything but text or a number, and
    for characters no database can store."""
    value = values.get(name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        errors[name] = ["Give text."]
        return ""
    text = str(value)
    if unstorable(text):
        errors[name] = ["Remove the NUL or lone surrogate character (it cannot be stored)."]
        return ""
    return text


CSV_TRANSFER = (
    "A transfer cannot be imported from a CSV: restore it from a JSON export, or record it "
    "through transfers/."
)


def _status(values: dict[str, Any], errors: dict[str, list[str]]) -> str:
    """An exported row's status (pending when it has none)."""
    status = values.get("status") or TransactionStatus.PENDING
    if status not in TransactionStatus.values:
        errors["status"] = [f"Give one of {', '.join(TransactionStatus.values)}."]
        return TransactionStatus.PENDING
    return str(status)


def _parse(
    values: dict[str, Any],
    where: Destination,
    occurrences: bulk.Occurrences,
    origin: "Origin",
    *,
    number: int,
    fresh: bool,
) -> tuple[Transaction | TransferItem | None, dict[str, list[str]]]:
    """A Transaction (not saved) from raw values, or the errors by field. An exported transfer's
    leg gives its transfer once both legs are read, and None (without errors) until then."""
    errors: dict[str, list[str]] = {}
    exported = bool(values.get("_export"))
    description = _text_value(values, "description", errors)
    category = _text_value(values, "category", errors)
    external_id = _text_value(values, "external_id", errors).strip() or None
    status = _status(values, errors) if exported else TransactionStatus.PENDING
    try:
        date = datetime.date.fromisoformat(str(values.get("date", "")).strip())
    except ValueError:
        errors["date"] = ["Give the date as YYYY-MM-DD."]
        date = None
    try:
        amount = Decimal(str(values.get("amount", "")).strip())
        if not amount.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        errors["amount"] = ["A valid number is required."]
        amount = None
    type_ = str(values.get("type") or "").strip().upper()
    if not type_ and amount is not None:
        type_ = TransactionType.EXPENSE if amount < 0 else TransactionType.INCOME
    if type_ == TransactionType.TRANSFER and not exported:
        errors["type"] = [CSV_TRANSFER]
    elif type_ not in TransactionType.values and (type_ or amount is not None):
        errors["type"] = ["Give INCOME or EXPENSE, or leave it empty to use the amount's sign."]
    if errors or date is None or amount is None:
        return None, errors
    if type_ == TransactionType.TRANSFER:
        own = {"status": status, "category": category, "external_id": external_id}
        return where.leg(number, values, fresh=fresh, own=own)
    account = where.account_for(_exported_id(values.get("account"))) if exported else where.account
    tx = Transaction(
        ledger_id=account.ledger_id,
        account=account,
        created_by=where.owner,
        type=type_,
        date=date,
        amount=amount,
        description=description,
        category=where.categories(account.ledger_id).get(category, create=True),
        external_id=external_id,
        status=status,
    )
    errors = bulk.validated(tx)
    if errors:
        return None, errors
    if not tx.external_id:
        tx.fingerprint = _fingerprint(tx, values, occurrences, origin)
    return tx, {}


def _exported_id(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def export_source(owner: User) -> str:
    """Names the ledger an export comes from: the same in every export of it, different for every
    user and every server (keyed with the server's SECRET_KEY, which it does not reveal; a new
    key names new sources). A restore keys each row on it and the row's id, so that rows of two
    ledgers never collide, and knows an export of the very ledger it restores into."""
    return salted_hmac("cashman.export-source", str(owner.pk), algorithm="sha256").hexdigest()[:32]


class Origin(NamedTuple):
    """Where an export's rows come from: its `source`, and whether it was made on this server
    (`local`: its ids name rows here), known by its `server`, or for an export made before
    that, by being the importing user's own."""

    source: str | None
    local: bool


def _origin(owner: User, header: ExportHeader) -> Origin:
    own = header.source is not None and header.source == export_source(owner)
    return Origin(header.source, local=header.server == export_server() or own)


def _fingerprint(
    tx: Transaction, values: dict[str, Any], occurrences: bulk.Occurrences, origin: Origin
) -> str:
    if values.get("_export") and values.get("id") is not None:
        if origin.local and isinstance(values["id"], int):
            tx.restored_id = values["id"]  # type: ignore[attr-defined]
        # A restored export keeps rows that merely look alike: the source row's id tells them
        # apart, and the export's source (server and user) tells apart rows of two exports
        # that share an id.
        return export_fingerprint(origin.source, values["id"])
    content = f"{tx.date}|{tx.amount:.2f}|{tx.description.strip()}"
    return bulk.content_fingerprint(
        date=tx.date,
        amount=tx.amount,
        description=tx.description,
        occurrence=occurrences.next(content),
    )


# --- Running a job ----------------------------------------------------------------------------
#
# A job ends `succeeded` or `failed`, whatever happens. Each batch of rows is committed together
# with the job's counters and a heartbeat, so the committed counters say exactly how far the job
# got. A worker claims a job (`import_claim`) before running it: a pending one, or a running one
# whose heartbeat is older than CASHMAN_IMPORT_STALE_SECONDS (its worker died). A claimed job
# resumes after the rows its last attempt committed; if another worker claims it meanwhile, the
# first stops at its next batch without committing it. The sweeper (`import_recover`, run every
# minute by Celery beat or `manage.py recover_imports`) re-queues such jobs, and pending ones whose
# message never reached a worker.

UNEXPECTED_FAILURE = (
    "The import stopped on an unexpected error after {rows} rows (they are kept). Upload the file "
    "again to import the rest: rows already imported count as duplicates. Reference: {reference}."
)
TOO_MANY_ATTEMPTS = (
    "The import's worker stopped while running it, {attempts} (the most allowed), after "
    "{rows} rows (they are kept). Upload the file again to import the rest: rows already imported "
    "count as duplicates."
)


class Superseded(Exception):
    """Another worker claimed this job (this one was thought dead): stop without committing."""


def _claimable(now: datetime.datetime) -> Q:
    stale = now - datetime.timedelta(seconds=settings.CASHMAN_IMPORT_STALE_SECONDS)
    running = Q(status=ImportJob.Status.RUNNING)
    return Q(status=ImportJob.Status.PENDING) | (
        running & (Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True))
    )


def import_claim(*, job_id: int) -> ImportJob | None:
    """Take the job for this worker, or None when it is finished or another worker has it."""
    now = timezone.now()
    claimed = ImportJob.objects.filter(_claimable(now), pk=job_id).update(
        status=ImportJob.Status.RUNNING,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        started_at=Coalesce("started_at", Value(now)),
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("owner", "account").get(pk=job_id)
    if job.attempts > settings.CASHMAN_IMPORT_MAX_ATTEMPTS:
        _finish(
            job,
            ImportJob.Status.FAILED,
            TOO_MANY_ATTEMPTS.format(attempts=_times(job.attempts - 1), rows=job.rows_processed),
        )
        return None
    return job


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def import_recover() -> list[int]:
    """Ids of the jobs to queue again: running ones whose worker stopped beating, and pending ones
    older than CASHMAN_IMPORT_REQUEUE_SECONDS (their message was lost, or never sent)."""
    now = timezone.now()
    waited = now - datetime.timedelta(seconds=settings.CASHMAN_IMPORT_REQUEUE_SECONDS)
    return list(
        ImportJob.objects.filter(_claimable(now))
        .exclude(status=ImportJob.Status.PENDING, created_at__gte=waited)
        .order_by("pk")
        .values_list("pk", flat=True)[:1000]
    )


NO_LONGER_WRITABLE = (
    "You may no longer write to this account's ledger: the rows not imported yet were left out."
)


class NoLongerWritable(ImportFileError):
    """The uploader lost the right to write the ledger while the job ran: it ends as failed."""


def import_run(*, job: ImportJob, progress=None) -> ImportJob:
    """Import the job's file (claimed by `import_claim`), batch by batch, after the rows a
    previous attempt committed."""
    try:
        _import_rows(job, progress)
    except Superseded:
        logger.warning("import %s was taken over by another worker", job.pk)
        return job
    except ImportFileError as exc:
        return _finish(job, ImportJob.Status.FAILED, str(exc))
    except Exception:
        logger.exception(
            "import %s stopped on an unexpected error",
            job.pk,
            extra={"request_id": job.request_id, "user_id": job.owner_id},
        )
        job.refresh_from_db(fields=COUNTERS)
        reference = job.request_id or f"import {job.pk}"
        failure = UNEXPECTED_FAILURE.format(rows=job.rows_processed, reference=reference)
        return _finish(job, ImportJob.Status.FAILED, failure)
    return _finish(job, ImportJob.Status.SUCCEEDED)


def _import_rows(job: ImportJob, progress) -> None:
    where = Destination(job)
    occurrences = bulk.Occurrences()
    committed = started = job.rows_processed  # by an earlier attempt: parsed again, never stored
    seen = 0
    origin = Origin(None, local=False)
    batch: list[tuple[int, Transaction | TransferItem]] = []
    with job.file.open("rb") as stream:
        for number, values in iter_rows(stream, job.format):
            if HEADER_KEY in values:
                origin = _origin(job.owner, values[HEADER_KEY])
                where.start(values[HEADER_KEY], local=origin.local)
                continue
            seen += 1
            # Every row is parsed, the committed ones too: a fingerprint counts the rows alike
            # before it, from the file's first row, and a transfer's legs are paired across them.
            item, errors = _parse(
                values, where, occurrences, origin, number=number, fresh=seen > committed
            )
            if seen <= committed:
                if seen % settings.CASHMAN_IMPORT_BATCH_SIZE == 0:
                    _beat(job)
                continue
            job.rows_processed += 1
            if errors:
                _invalid(job, number, errors)
            elif item is not None:
                batch.append((number, item))
            if job.rows_processed - committed >= settings.CASHMAN_IMPORT_BATCH_SIZE:
                _flush(job, where, batch)
                committed, batch = job.rows_processed, []
                if progress:
                    progress(job)
        # The last batch ends the file: the transfers of which it holds one leg, and the accounts
        # to archive, go with it, unless an earlier attempt committed it already.
        _flush(job, where, batch, last=seen > started)


def _beat(job: ImportJob) -> None:
    """Say this worker is alive and still the job's claimant (Superseded if not)."""
    mine = ImportJob.objects.filter(pk=job.pk, attempts=job.attempts)
    if not mine.update(heartbeat_at=timezone.now()):
        raise Superseded


def _invalid(job: ImportJob, number: int, errors: dict[str, list[str]]) -> None:
    job.invalid_count += 1
    if len(job.errors) < MAX_STORED_ERRORS:
        job.errors.append({"row": number, "errors": errors})


COUNTERS = ["rows_processed", "created_count", "duplicate_count", "invalid_count", "errors"]


def _flush(
    job: ImportJob,
    where: Destination,
    batch: list[tuple[int, Transaction | TransferItem]],
    *,
    last: bool = False,
) -> None:
    """Commit a batch with the job's counters and heartbeat, as the job's current claimant.

    The rows' accounts are locked first (on SQLite, the transaction takes the database's write
    lock as it begins: settings' transaction_mode), so two imports into one account (two uploads
    of the same file) check and insert their batches one after the other, and the second finds
    the first's rows as duplicates. A transfer's leg rows count as its outcome: both created,
    both duplicates, or both invalid."""
    rows = [(number, tx) for number, tx in batch if isinstance(tx, Transaction)]
    transfers = [item for _, item in batch if isinstance(item, TransferItem)]
    if last:
        transfers += where.unpaired()
    accounts = {job.account_id, *(tx.account_id for _, tx in rows)}
    accounts |= {a.pk for item in transfers for a in (item.from_account, item.to_account)}
    with services.unit_of_work(job.account.ledger_id):
        list(
            Account.objects.select_for_update()
            .filter(pk__in=accounts)
            .order_by("pk")
            .values_list("pk")
        )
        claimant = ImportJob.objects.select_for_update().filter(pk=job.pk)
        if claimant.values_list("attempts", flat=True).first() != job.attempts:
            raise Superseded
        # The uploader's role is read again for every batch: one removed from the ledger (or
        # made a viewer) since the upload writes nothing more.
        ledgers = {job.account.ledger_id, *(tx.ledger_id for _, tx in rows)}
        ledgers |= {a.ledger_id for item in transfers for a in (item.from_account, item.to_account)}
        if not scope.may_write_now(job.owner, ledgers):
            raise NoLongerWritable(NO_LONGER_WRITABLE)
        duplicates = bulk.mark_duplicates([*rows, *where.probes(transfers)])
        duplicates |= _still_there(where, rows, transfers)
        new = [tx for number, tx in rows if number not in duplicates]
        services.transactions_insert(
            actor=job.owner, transactions=new, batch_size=settings.CASHMAN_IMPORT_BATCH_SIZE
        )
        created, repeated = len(new), len(rows) - len(new)
        for item in transfers:
            if {(item.exported.id, True), (item.exported.id, False)} & duplicates:
                repeated += len(item.numbers)
            elif errors := where.make(item):
                for number in item.numbers:
                    _invalid(job, number, errors)
            else:
                created += len(item.numbers)
        if last:
            where.finish()
        job.heartbeat_at = timezone.now()
        claimant.update(
            heartbeat_at=job.heartbeat_at,
            rows_processed=job.rows_processed,
            created_count=job.created_count + created,
            duplicate_count=job.duplicate_count + repeated,
            invalid_count=job.invalid_count,
            errors=job.errors,
        )
    job.created_count += created
    job.duplicate_count += repeated


def _still_there(
    where: Destination, rows: list[tuple[int, Transaction]], transfers: list[TransferItem]
) -> set[Any]:
    """Rows (and transfers' legs, keyed as `Destination.probes` keys them) of an export made on
    this server whose transaction is still in the ledger they would go to: a restore after a loss
    brings back only what was lost. Empty for any other file."""
    wanted: dict[Any, tuple[int, int]] = {
        number: (tx.restored_id, tx.ledger_id)  # type: ignore[attr-defined]
        for number, tx in rows
        if getattr(tx, "restored_id", None)
    }
    if where.local:
        for item in transfers:
            exported = item.exported
            wanted[(exported.id, True)] = (exported.from_transaction, item.from_account.ledger_id)
            wanted[(exported.id, False)] = (exported.to_transaction, item.to_account.ledger_id)
    if not wanted:
        return set()
    present = set(
        Transaction.objects.filter(pk__in={pk for pk, _ in wanted.values()}).values_list(
            "pk", "ledger_id"
        )
    )
    return {key for key, found in wanted.items() if found in present}


def _finish(job: ImportJob, status: str, failure: str = "") -> ImportJob:
    """End the job, as its current claimant (a worker that was taken over changes nothing), and
    delete its uploaded file: nothing reads it again. A failed job's counters are the committed
    ones, not those of a batch that was being built."""
    if status == ImportJob.Status.FAILED:
        job.refresh_from_db(fields=COUNTERS)
    job.status, job.failure, job.finished_at = status, failure, timezone.now()
    ended = ImportJob.objects.filter(pk=job.pk, attempts=job.attempts).update(
        status=status, failure=failure, finished_at=job.finished_at, file=""
    )
    if not ended:
        logger.warning("import %s was taken over by another worker before it ended", job.pk)
        job.refresh_from_db(fields=["status", "failure", "finished_at"])
        return job
    if job.file and job.file.name:
        try:
            job.file.storage.delete(job.file.name)
        except Exception:  # the job has ended either way; purge_import_files sweeps leftovers
            logger.warning("could not delete the file of import %s", job.pk, exc_info=True)
        job.file.name = ""
    return job


def import_create(
    *,
    owner: User,
    upload: UploadedFile,
    account: Account | None = None,
    request_id: str = "",
) -> ImportJob:
    """Check the upload and record the job, into `account` (the owner's default account when
    None): ImportFileError if the file cannot be imported, PermissionDenied if the owner only
    views the account's ledger, a ValidationError if it is archived. The caller queues
    `import_run` once this is committed."""
    target = services.transactions.usable_account(actor=owner, account=account)
    kind, rows = inspect_upload(upload)
    name = (upload.name or "import")[-255:]
    return ImportJob.objects.create(
        owner=owner,
        account=target,
        file=upload,
        filename=name,
        format=kind,
        rows_total=rows,
        request_id=request_id[:64],
    )
