"""Reading an upload: a CSV or a Cashman JSON export, checked when uploaded (`inspect_upload`)
and streamed row by row (`iter_rows`), in chunks, whatever its size."""

import codecs
import csv
import json
from collections.abc import Iterator
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from ledger.export_format import EXPORT_FORMAT, ExportError, parse_header
from ledger.models import ImportJob

REQUIRED_COLUMNS = ("date", "description", "amount")
OPTIONAL_COLUMNS = ("type", "category", "external_id")
# The export's header (ledgers, accounts, transfers, categories), yielded before its rows.
HEADER_KEY = "_header"


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
    assert upload.file is not None  # an upload with a size has a file
    rows = 0
    for _, values in iter_rows(upload.file, kind):
        rows += HEADER_KEY not in values
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
    try:
        parsed = parse_header(header)
    except ExportError as exc:
        raise ImportFileError(str(exc)) from exc
    yield 1, {HEADER_KEY: parsed}
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
