"""Serializer plumbing shared by every app: a serializer's output from `values()` rows."""

import datetime
import functools
import operator
import zoneinfo
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import orjson
from django.utils import timezone
from rest_framework import serializers
from rest_framework.fields import Field
from rest_framework.settings import api_settings

from cashman_site import process_state


class RelatedTextField(serializers.CharField):
    """A read-only text of a related object (`source="category.name"`): null when the relation is
    empty. DRF gives a field's `default` for that, except in a partial update's answer, where it
    leaves the field out; this field is there in every answer."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def get_attribute(self, instance: Any) -> Any:
        for attr in self.source_attrs[:-1]:
            instance = getattr(instance, attr)
            if instance is None:
                return None
        return getattr(instance, self.source_attrs[-1])


# Rows: a serializer's output from `QuerySet.values()` dicts, for lists that need no instances.


def value_columns(serializer_class: type[serializers.Serializer]) -> tuple[str, ...]:
    """The names `QuerySet.values()` gives the columns a serializer's readable fields read: each
    field's source, with `__` for its dots (`category.name` is `category__name`; a related
    field's source is the foreign key, whose value is the related id)."""
    return _reader(serializer_class).columns


_UTC_ZONE = zoneinfo.ZoneInfo("UTC")  # cached by zoneinfo: the object Django's UTC setting gives


def _instant(value: datetime.datetime, zone: datetime.tzinfo) -> str:
    """DRF's ISO 8601 form of an aware datetime: in the given time zone, UTC written as `Z`."""
    if zone is _UTC_ZONE:  # the default zone: Python's own UTC converts faster
        zone = datetime.UTC
    if value.tzinfo is not zone:
        value = value.astimezone(zone)
    if zone is datetime.UTC:
        # orjson writes a UTC instant as isoformat() does (microseconds only when not zero),
        # with `Z` for the offset, in C.
        return orjson.dumps(value, option=orjson.OPT_UTC_Z)[1:-1].decode()
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _converter(field: Field) -> Callable[..., Any] | None:
    """How a field writes a column's value (not None), for the values the ORM gives that column:
    what DRF's `field.to_representation` gives; a field this does not know is asked itself. None
    when the value is written as it is."""
    kind = type(field)
    big_number = kind is serializers.BigIntegerField and not getattr(
        field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING
    )
    if (
        kind
        in (
            serializers.IntegerField,
            serializers.CharField,
            serializers.ChoiceField,
            RelatedTextField,
        )
        or big_number
        or (isinstance(field, serializers.PrimaryKeyRelatedField) and field.pk_field is None)
    ):
        # Text and integer columns come back as str and int, a foreign key as the related id:
        # what these fields give for them (a choice is given back as its key).
        return None
    if (
        kind is serializers.DecimalField
        and field.decimal_places is not None
        and not field.localize
        and not field.normalize_output
        and field.rounding is None
        and getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING) is True
    ):
        # Formatting a Decimal rounds half to even as DRF's quantize does, and never uses float.
        return operator.methodcaller("__format__", f".{field.decimal_places}f")
    if kind is serializers.DateField and getattr(field, "format", api_settings.DATE_FORMAT) == (
        "iso-8601"
    ):
        return datetime.date.isoformat
    if (
        kind is serializers.DateTimeField
        and getattr(field, "format", api_settings.DATETIME_FORMAT) == "iso-8601"
        and getattr(field, "timezone", None) is None
    ):
        return _instant  # the one converter that takes the time zone
    return field.to_representation


class _Reader(NamedTuple):
    columns: tuple[str, ...]  # the values() names, in the fields' order
    keys: tuple[str, ...]  # the fields' names
    values: Callable[[Mapping[str, Any]], tuple]  # a row's values of `columns`, in order
    converted: tuple[tuple[str, Callable[[Any], Any]], ...]  # fields whose value is written
    instants: tuple[str, ...]  # datetime fields, written in the current time zone

    def represent(self, row: Mapping[str, Any], zone: datetime.tzinfo) -> dict[str, Any]:
        representation = dict(zip(self.keys, self.values(row), strict=True))
        for key, convert in self.converted:
            value = representation[key]
            if value is not None:  # None is null whatever the field
                representation[key] = convert(value)
        for key in self.instants:
            value = representation[key]
            if value is not None:
                representation[key] = _instant(value, zone)
        return representation


@functools.cache
def _reader(serializer_class: type[serializers.Serializer]) -> _Reader:
    """How to read a row for the class's readable fields, in their order."""
    fields = [(n, f) for n, f in serializer_class().fields.items() if not f.write_only]
    columns = tuple("__".join(field.source_attrs) for _, field in fields)
    getter = operator.itemgetter(*columns)
    converters = [(name, _converter(field)) for name, field in fields]
    return _Reader(
        columns=columns,
        keys=tuple(name for name, _ in fields),
        values=getter if len(columns) > 1 else lambda row: (getter(row),),
        converted=tuple((n, c) for n, c in converters if c is not None and c is not _instant),
        instants=tuple(n for n, c in converters if c is _instant),
    )


process_state.register("serializers: value readers", _reader.cache_clear)


def row_representation(
    serializer_class: type[serializers.Serializer],
    row: Mapping[str, Any],
    zone: datetime.tzinfo | None = None,
) -> dict[str, Any]:
    """What `serializer_class(instance).data` gives, from the instance's `value_columns`."""
    return _reader(serializer_class).represent(row, zone or timezone.get_current_timezone())


class ValuesListSerializer(serializers.ListSerializer):
    """A list serializer (`Meta.list_serializer_class`) for rows that are `values()` dicts of
    the child's `value_columns`, as a list view's queryset gives them: the JSON the child gives
    for each instance, without building instances or walking fields for every row. Model
    instances are serialised by the child as usual."""

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        rows = list(data)
        if not rows or not isinstance(rows[0], Mapping):
            return super().to_representation(rows)
        zone = timezone.get_current_timezone()  # once a page, not twice a row
        represent = _reader(type(self.child)).represent
        return [represent(row, zone) for row in rows]
