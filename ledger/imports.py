"""CSV and Cashman-JSON imports: checked when uploaded, then streamed into the ledger in batches.

A CSV has the columns date, description, amount and optionally type, category, external_id. A
signed amount decides the type when there is no type column (or it is empty). Rows already in the
ledger (same external id, or, without one, the same date, amount and description) are counted as
duplicates, so importing a file twice adds nothing the second time.
"""

import codecs
import csv
import datetime
import hashlib
import json
import logging
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import IO, Any, NamedTuple

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import User
from ledger import bulk, scope, services
from ledger.choices import TransactionType
from ledger.models import ImportJob, Transaction

REQUIRED_COLUMNS = ("date", "description", "amount")
OPTIONAL_COLUMNS = ("type", "category", "external_id")
EXPORT_FORMAT = "cashman-export"
CATEGORIES_KEY = "_categories"  # the export's category list, yielded before its rows
SOURCE_KEY = "_source"  # the export's source, yielded with its categories
MAX_STORED_ERRORS = 1000

logger = logging.getLogger("cashman.imports")


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; the message says why, for the client."""


# --- Checking an upload -----------------------------------------------------------------------


def inspect_upload(upload: UploadedFile) -> tuple[str, int]:
    """(format, number of data rows) of an uploaded file, or ImportFileError. Reads it once, in
    chunks: memory stays flat whatever the size."""
    if upload.size is not None and upload.size > settings.CASHMAN_IMPORT_MAX_BYTES:
        raise ImportFileError(
            f"The file is larger than the limit of {settings.CASHMAN_IMPORT_MAX_BYTES} bytes."
        )
    if not upload.size:
        raise ImportFileError("The file is empty.")
    upload.seek(0)
    head = upload.read(64).lstrip(codecs.BOM_UTF8).lstrip()
    upload.seek(0)
    kind = ImportJob.Format.JSON if head[:1] == b"{" else ImportJob.Format.CSV
    rows = sum(1 for _, values in iter_rows(upload.file, kind) if CATEGORIES_KEY not in values)
    if rows == 0:
        raise ImportFileError("The file has no rows to import.")
    upload.seek(0)
    return kind, rows


def _text(stream: IO[bytes]) -> Iterator[str]:
    """Lines of a UTF-8 file (a BOM is allowed); ImportFileError if it is not UTF-8 text."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending = ""
    for chunk in iter(lambda: stream.read(64 * 1024), b""):
        if b"\x00" in chunk:
            raise ImportFileError("This is not a text file (it contains NUL bytes).")
        try:
            pending += decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise ImportFileError("The file is not UTF-8 text; save it as UTF-8 CSV.") from exc
        *lines, pending = pending.split("\n")
        for line in lines:
            yield line + "\n"
    try:
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise ImportFileError("The file is not UTF-8 text; save it as UTF-8 CSV.") from exc
    if pending:
        yield pending


def iter_rows(stream: IO[bytes], kind: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, raw values) for each data row, streamed."""
    if kind == ImportJob.Format.JSON:
        yield from _iter_json(stream)
    else:
        yield from _iter_csv(stream)


def _iter_csv(stream: IO[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        reader = csv.reader(_text(stream))
        header = next(reader, None)
        if header is None:
            raise ImportFileError("The file is empty.")
        columns = [name.strip().lower() for name in header]
        missing = [name for name in REQUIRED_COLUMNS if name not in columns]
        if missing:
            raise ImportFileError(
                f"Missing column(s): {', '.join(missing)}. A CSV needs a header row with "
                f"{', '.join(REQUIRED_COLUMNS)} (and optionally {', '.join(OPTIONAL_COLUMNS)})."
            )
        # Cashman's own CSV export (known by its header) prefixes formula-like text with "'"
        # (exports.spreadsheet_text); that one prefix is removed again. Imported here because
        # ledger.exports imports this module.
        from ledger.exports import CSV_COLUMNS, FORMULA_PREFIX, FORMULA_TRIGGERS

        quoted = ("description", "category", "external_id") if columns == CSV_COLUMNS else ()
        for values in reader:
            if not any(value.strip() for value in values):
                continue
            row = dict(zip(columns, values, strict=False))
            for name in quoted:
                value = row.get(name) or ""
                if value[:1] == FORMULA_PREFIX and value[1:2] in FORMULA_TRIGGERS:
                    row[name] = value[1:]
            yield reader.line_num, row
    except csv.Error as exc:
        raise ImportFileError(f"This is not a readable CSV file: {exc}.") from exc


def _iter_json(stream: IO[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    """A Cashman JSON export: one transaction per line, as `export` writes it. A line that is not
    a JSON object, or a header that is not the export's, makes the whole file unreadable; a row's
    bad values are that row's errors (`_parse`)."""
    lines = _text(stream)
    try:
        header = _json_value(next(lines).rstrip().rstrip(",") + "}")
        opening = next(lines).strip()
    except (StopIteration, ImportFileError) as exc:
        raise ImportFileError("This JSON file is not a Cashman export.") from exc
    if (
        not isinstance(header, dict)
        or header.get("format") != EXPORT_FORMAT
        or opening != '"transactions": ['
    ):
        raise ImportFileError("This JSON file is not a Cashman export.")
    yield 1, {CATEGORIES_KEY: _category_names(header.get("categories")), **_source(header)}
    for number, line in enumerate(lines, start=3):
        line = line.strip()
        if line in ("]}", ""):
            continue
        try:
            row = _json_value(line.rstrip(","))
        except ImportFileError as exc:
            raise ImportFileError(f"Line {number} of the export is not valid JSON.") from exc
        if not isinstance(row, dict):
            raise ImportFileError(f"Line {number} of the export is not a JSON object.")
        yield number, {**row, "_export": True}


def _json_value(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
        raise ImportFileError("Not valid JSON.") from exc


def _category_names(names: Any) -> list[str]:
    if names is None:
        return []
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ImportFileError("The export's categories must be a list of names.")
    for name in names:
        if _unstorable(name):
            raise ImportFileError(
                f"The category name {name!r} holds a character Cashman cannot store."
            )
    return names


def _source(header: dict[str, Any]) -> dict[str, str]:
    """The export's `source` (which server and ledger it came from), when it names one."""
    source = header.get("source")
    if source is None:
        return {}
    if not isinstance(source, str) or not 0 < len(source) <= 64 or _unstorable(source):
        raise ImportFileError("The export's source must be a short text.")
    return {SOURCE_KEY: source}


def _unstorable(text: str) -> bool:
    """NUL, which no PostgreSQL text holds, or a lone surrogate, which is not UTF-8."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


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
    if _unstorable(text):
        errors[name] = ["Remove the NUL or lone surrogate character (it cannot be stored)."]
        return ""
    return text


def _parse(
    owner: User,
    values: dict[str, Any],
    categories: services.CategoryCache,
    occurrences: bulk.Occurrences,
    origin: "Origin | None" = None,
):
    """A Transaction (not saved) from raw values, or the errors by field."""
    errors: dict[str, list[str]] = {}
    description = _text_value(values, "description", errors)
    category = _text_value(values, "category", errors)
    external_id = _text_value(values, "external_id", errors).strip() or None
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
    if type_ not in TransactionType.values and (type_ or amount is not None):
        errors["type"] = ["Give INCOME or EXPENSE, or leave it empty to use the amount's sign."]
    if errors:
        return None, errors
    tx = Transaction(
        owner=owner,
        type=type_,
        date=date,
        amount=amount,
        description=description,
        category=categories.get(category, create=True),
        external_id=external_id,
    )
    errors = bulk.validated(tx)
    if errors:
        return None, errors
    if not tx.external_id:
        tx.fingerprint = _fingerprint(tx, values, occurrences, origin or Origin(None, own=False))
    return tx, {}


def export_source(owner: User) -> str:
    """Names the ledger an export comes from: the same in every export of it, different for every
    user and every server (keyed with the server's SECRET_KEY, which it does not reveal; a new
    key names new sources). A restore keys each row on it and the row's id, so that rows of two
    ledgers never collide, and knows an export of the very ledger it restores into."""
    return salted_hmac("cashman.export-source", str(owner.pk), algorithm="sha256").hexdigest()[:32]


class Origin(NamedTuple):
    """Where an export's rows come from: its `source`, and whether that is the ledger they are
    being restored into."""

    source: str | None
    own: bool


def _fingerprint(
    tx: Transaction, values: dict[str, Any], occurrences: bulk.Occurrences, origin: Origin
) -> str:
    source = origin.source
    if values.get("_export") and values.get("id") is not None:
        if origin.own and isinstance(values["id"], int):
            tx.restored_id = values["id"]  # type: ignore[attr-defined]
        # A restored export keeps rows that merely look alike: the source row's id tells them
        # apart, and the export's source (server and ledger) tells apart rows of two ledgers
        # that share an id. Exports made before `source` existed are keyed on the id alone.
        origin = f"{EXPORT_FORMAT}|{source}|{values['id']}" if source else None
        return hashlib.sha256((origin or f"{EXPORT_FORMAT}|{values['id']}").encode()).hexdigest()
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
    job = ImportJob.objects.select_related("owner").get(pk=job_id)
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
    categories = services.CategoryCache(job.owner)
    occurrences = bulk.Occurrences()
    committed = job.rows_processed  # by an earlier attempt: parsed again, never stored again
    seen = 0
    origin = Origin(None, own=False)
    batch: list[tuple[int, Transaction]] = []
    with job.file.open("rb") as stream:
        for number, values in iter_rows(stream, job.format):
            if CATEGORIES_KEY in values:
                for name in values[CATEGORIES_KEY]:
                    categories.get(name, create=True)
                source = values.get(SOURCE_KEY)
                origin = Origin(source, own=source == export_source(job.owner))
                continue
            seen += 1
            # Every row is parsed, the committed ones too: a fingerprint counts the rows alike
            # before it, from the file's first row.
            tx, errors = _parse(job.owner, values, categories, occurrences, origin)
            if seen <= committed:
                if seen % settings.CASHMAN_IMPORT_BATCH_SIZE == 0:
                    _beat(job)
                continue
            job.rows_processed += 1
            if tx is None:
                _invalid(job, number, errors)
            else:
                batch.append((number, tx))
            if job.rows_processed - committed >= settings.CASHMAN_IMPORT_BATCH_SIZE:
                _flush(job, batch)
                committed, batch = job.rows_processed, []
                if progress:
                    progress(job)
        _flush(job, batch)


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


def _flush(job: ImportJob, batch: list[tuple[int, Transaction]]) -> None:
    """Commit a batch with the job's counters and heartbeat, as the job's current claimant.

    The owner's row is locked first (on SQLite, the transaction takes the database's write lock
    as it begins: settings' transaction_mode), so two imports of one ledger (two uploads of the
    same file) check and insert their batches one after the other, and the second finds the
    first's rows as duplicates."""
    with services.unit_of_work(job.owner_id):
        list(User.objects.select_for_update().filter(pk=job.owner_id).values_list("pk"))
        claimant = ImportJob.objects.select_for_update().filter(pk=job.pk)
        if claimant.values_list("attempts", flat=True).first() != job.attempts:
            raise Superseded
        duplicates = bulk.mark_duplicates(job.owner, batch) | _still_there(job, batch)
        new = [tx for number, tx in batch if number not in duplicates]
        services.transactions_insert(job.owner, new, batch_size=settings.CASHMAN_IMPORT_BATCH_SIZE)
        job.heartbeat_at = timezone.now()
        claimant.update(
            heartbeat_at=job.heartbeat_at,
            rows_processed=job.rows_processed,
            created_count=job.created_count + len(new),
            duplicate_count=job.duplicate_count + len(duplicates),
            invalid_count=job.invalid_count,
            errors=job.errors,
        )
    job.created_count += len(new)
    job.duplicate_count += len(duplicates)


def _still_there(job: ImportJob, batch: list[tuple[int, Transaction]]) -> set[int]:
    """Rows of an export of this very ledger whose transaction is still in it: a restore after a
    loss brings back only what was lost."""
    restored = {number: tx.restored_id for number, tx in batch if getattr(tx, "restored_id", None)}
    if not restored:
        return set()
    present = set(
        scope.visible(Transaction.objects.all(), job.owner)
        .filter(pk__in=restored.values())
        .values_list("pk", flat=True)
    )
    return {number for number, pk in restored.items() if pk in present}


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
    if job.file:
        try:
            job.file.storage.delete(job.file.name)
        except Exception:  # the job has ended either way; purge_import_files sweeps leftovers
            logger.warning("could not delete the file of import %s", job.pk, exc_info=True)
        job.file.name = ""
    return job


def import_create(*, owner: User, upload: UploadedFile, request_id: str = "") -> ImportJob:
    """Check the upload and record the job (ImportFileError if the file cannot be imported).
    The caller queues `import_run` once this is committed."""
    kind, rows = inspect_upload(upload)
    name = (upload.name or "import")[-255:]
    return ImportJob.objects.create(
        owner=owner,
        file=upload,
        filename=name,
        format=kind,
        rows_total=rows,
        request_id=request_id[:64],
    )
