"""Keyset ("cursor") pages: each page starts after the last row of the one before instead of
counting past the rows before it with OFFSET. Where the ordering has an index (the transactions'
dates) the database starts there, so page 10,000 costs what page 1 does.

A cursor names a position in one ordering: the ordering's keys (whose last is the id, so no two
rows share a position) and the values of those keys in the row it points after, or before when
it goes backwards. It is opaque to clients (URL-safe base64 of a small JSON object) and checked
as strictly as a filter: values that do not parse as their fields, or a cursor made for another
ordering, are refused. It holds no secret and gives no access: the rows are always the
requesting user's own, whatever a cursor says.

DRF's CursorPagination positions a cursor on the first ordering key alone and skips the rows
that share its value with an OFFSET, which it caps at 1,000; a ledger has days with more rows
than that, and amounts repeat by the thousand. These cursors compare the whole key instead.
"""

import base64
import binascii
import datetime
import decimal
import json
from collections.abc import Sequence
from functools import reduce
from operator import or_
from typing import Any, NamedTuple

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from rest_framework.exceptions import NotFound

INVALID_CURSOR = "Invalid cursor."


class Cursor(NamedTuple):
    values: tuple[Any, ...]  # of the ordering's keys, in the row the cursor points past
    backwards: bool  # True: the rows before that row (a "previous" link)


def ordering_of(queryset: QuerySet) -> tuple[str, ...]:
    """The queryset's ordering, which must end with its primary key (so it is total)."""
    ordering = tuple(queryset.query.order_by or queryset.model._meta.ordering)
    pk = queryset.model._meta.pk.name
    keys = tuple(key.replace("pk", pk) if key.lstrip("-") == "pk" else key for key in ordering)
    if not keys or keys[-1].lstrip("-") != pk:
        raise ValueError(f"A keyset page needs an ordering that ends with {pk!r}: {keys}.")
    return keys


def key_of(row: Any, ordering: Sequence[str]) -> tuple[Any, ...]:
    """The ordering's values in `row` (a model instance, or a dict of `values()`)."""
    get = row.__getitem__ if isinstance(row, dict) else lambda name: getattr(row, name)
    return tuple(get(key.lstrip("-")) for key in ordering)


def encode(ordering: Sequence[str], cursor: Cursor) -> str:
    payload = {"o": list(ordering), "v": [_plain(v) for v in cursor.values], "b": cursor.backwards}
    text = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def decode(raw: str, model: type[Model], ordering: Sequence[str]) -> Cursor:
    """The cursor `raw` names, for this ordering; NotFound for anything else."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if (
            payload["o"] != list(ordering)
            or not isinstance(payload["v"], list)
            or not isinstance(payload["b"], bool)
        ):
            raise ValueError("not a cursor of this ordering")
        values = tuple(
            _parsed(model, key.lstrip("-"), value)
            for key, value in zip(ordering, payload["v"], strict=True)
        )
    except (
        ValueError,
        TypeError,
        KeyError,
        RecursionError,  # JSON nested too deeply for the parser
        binascii.Error,
        ValidationError,
        FieldDoesNotExist,
    ):
        raise NotFound(INVALID_CURSOR) from None
    return Cursor(values, payload["b"])


def beyond(ordering: Sequence[str], cursor: Cursor) -> Q:
    """The rows after the cursor's position in `ordering` (before it, going backwards).

    Lexicographic: the first key past its value, or equal to it and the second key past, and so
    on. The first key's bound is repeated on its own, so that the database can start an index
    range there rather than filter from the first row."""
    clauses: list[Q] = []
    equal: dict[str, Any] = {}
    for key, value in zip(ordering, cursor.values, strict=True):
        name = key.lstrip("-")
        clauses.append(Q(**equal, **{f"{name}__{_past(key, cursor.backwards)}": value}))
        equal[name] = value
    first = ordering[0]
    start = Q(**{f"{first.lstrip('-')}__{_past(first, cursor.backwards)}e": cursor.values[0]})
    return start & reduce(or_, clauses)


def reversed_ordering(ordering: Sequence[str]) -> list[str]:
    return [key[1:] if key.startswith("-") else f"-{key}" for key in ordering]


def _past(key: str, backwards: bool) -> str:
    descending = key.startswith("-")
    return "lt" if descending != backwards else "gt"


def _plain(value: Any) -> str | int:
    if isinstance(value, int):
        return value
    if isinstance(value, datetime.date):  # a datetime too, to the microsecond, with its offset
        return value.isoformat()
    return str(value)  # a Decimal as written: "-12.50"


def _parsed(model: type[Model], name: str, value: Any) -> Any:
    """`value` as the field `name` holds it, validated as a write of it would be."""
    if "__" in name or isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(name)
    field = model._meta.get_field(name)
    parsed = field.to_python(value)  # type: ignore[union-attr]
    if parsed is None:
        raise ValueError(name)
    if isinstance(parsed, decimal.Decimal) and not parsed.is_finite():
        raise ValueError(name)
    if isinstance(parsed, datetime.datetime) and timezone.is_naive(parsed):
        raise ValueError(name)
    field.run_validators(parsed)  # type: ignore[union-attr]  # digits, an id's range
    return parsed
