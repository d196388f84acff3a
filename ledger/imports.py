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
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction as db_transaction
from django.utils import timezone

from accounts.models import User
from ledger import bulk
from ledger.choices import TransactionType
from ledger.models import ImportJob, Transaction

REQUIRED_COLUMNS = ("date", "description", "amount")
OPTIONAL_COLUMNS = ("type", "category", "external_id")
EXPORT_FORMAT = "cashman-export"
CATEGORIES_KEY = "_categories"  # the export's category list, yielded before its rows
MAX_STORED_ERRORS = 1000


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
        for values in reader:
            if not any(value.strip() for value in values):
                continue
            yield reader.line_num, dict(zip(columns, values, strict=False))
    except csv.Error as exc:
        raise ImportFileError(f"This is not a readable CSV file: {exc}.") from exc


def _iter_json(stream: IO[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    """A Cashman JSON export: one transaction per line, as `export` writes it."""
    lines = _text(stream)
    try:
        header = json.loads(next(lines).rstrip().rstrip(",") + "}")
        opening = next(lines).strip()
    except (StopIteration, ValueError) as exc:
        raise ImportFileError("This JSON file is not a Cashman export.") from exc
    if header.get("format") != EXPORT_FORMAT or opening != '"transactions": [':
        raise ImportFileError("This JSON file is not a Cashman export.")
    yield 1, {CATEGORIES_KEY: header.get("categories") or []}
    for number, line in enumerate(lines, start=3):
        line = line.strip()
        if line in ("]}", ""):
            continue
        try:
            row = json.loads(line.rstrip(","))
        except ValueError as exc:
            raise ImportFileError(f"Line {number} of the export is not valid JSON.") from exc
        yield number, {**row, "_export": True}


# --- Turning a row into a transaction ---------------------------------------------------------


def _parse(owner: User, values: dict[str, Any], categories: bulk.CategoryCache):
    """A Transaction (not saved) from raw values, or the errors by field."""
    errors: dict[str, list[str]] = {}
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
        description=str(values.get("description") or ""),
        category=categories.get(values.get("category"), create=True),
        external_id=str(values.get("external_id") or "").strip() or None,
    )
    errors = bulk.validated(tx)
    if errors:
        return None, errors
    if not tx.external_id:
        tx.fingerprint = _fingerprint(tx, values)
    return tx, {}


def _fingerprint(tx: Transaction, values: dict[str, Any]) -> str:
    if values.get("_export") and values.get("id") is not None:
        # A restored export keeps rows that merely look alike: the source row's id tells them apart.
        return hashlib.sha256(f"{EXPORT_FORMAT}|{values['id']}".encode()).hexdigest()
    return bulk.content_fingerprint(date=tx.date, amount=tx.amount, description=tx.description)


# --- Running a job ----------------------------------------------------------------------------


def import_run(*, job: ImportJob, progress=None) -> ImportJob:
    """Import the job's file, batch by batch; each batch is committed with the job's counters."""
    job.status, job.started_at = ImportJob.Status.RUNNING, timezone.now()
    job.save(update_fields=["status", "started_at"])
    categories = bulk.CategoryCache(job.owner)
    batch: list[tuple[int, Transaction]] = []
    try:
        with job.file.open("rb") as stream:
            for number, values in iter_rows(stream, job.format):
                if CATEGORIES_KEY in values:
                    for name in values[CATEGORIES_KEY]:
                        categories.get(str(name), create=True)
                    continue
                job.rows_processed += 1
                tx, errors = _parse(job.owner, values, categories)
                if tx is None:
                    _invalid(job, number, errors)
                else:
                    batch.append((number, tx))
                if len(batch) >= settings.CASHMAN_IMPORT_BATCH_SIZE:
                    _flush(job, batch)
                    batch = []
                    if progress:
                        progress(job)
            _flush(job, batch)
    except ImportFileError as exc:
        return _finish(job, ImportJob.Status.FAILED, str(exc))
    return _finish(job, ImportJob.Status.SUCCEEDED)


def _invalid(job: ImportJob, number: int, errors: dict[str, list[str]]) -> None:
    job.invalid_count += 1
    if len(job.errors) < MAX_STORED_ERRORS:
        job.errors.append({"row": number, "errors": errors})


def _flush(job: ImportJob, batch: list[tuple[int, Transaction]]) -> None:
    with db_transaction.atomic():
        duplicates = bulk.mark_duplicates(job.owner, batch)
        new = [tx for number, tx in batch if number not in duplicates]
        bulk.insert(job.owner, new, batch_size=settings.CASHMAN_IMPORT_BATCH_SIZE)
        job.created_count += len(new)
        job.duplicate_count += len(duplicates)
        job.save(
            update_fields=[
                "rows_processed",
                "created_count",
                "duplicate_count",
                "invalid_count",
                "errors",
            ]
        )


def _finish(job: ImportJob, status: str, failure: str = "") -> ImportJob:
    job.status, job.failure, job.finished_at = status, failure, timezone.now()
    job.save()
    return job


def import_create(*, owner: User, upload: UploadedFile) -> ImportJob:
    """Check the upload and record the job (ImportFileError if the file cannot be imported).
    The caller queues `import_run` once this is committed."""
    kind, rows = inspect_upload(upload)
    name = (upload.name or "import")[-255:]
    return ImportJob.objects.create(
        owner=owner, file=upload, filename=name, format=kind, rows_total=rows
    )
