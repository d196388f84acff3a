"""Serializer plumbing shared by every app."""

import copy
import datetime
import functools
import zoneinfo
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import orjson
from django.utils import timezone
from rest_framework import serializers
from rest_framework.fields import Field
from rest_framework.settings import api_settings

from cashman_site import process_state


def needs_deep_copy(field: Field) -> bool:
    """Whether `fresh_copy` must copy this field deeply (see there)."""
    if isinstance(field, serializers.BaseSerializer) or isinstance(
        field.default, list | dict | set
    ):
        return True
    return any(isinstance(value, Field) for value in vars(field).values())


def shallow_copy(field: Field) -> Field:
    """`copy.copy(field)` without its detour through `__reduce_ex__`: a new instance of the same
    class with the same attributes (a field has no slots and no `__copy__`)."""
    clone = object.__new__(type(field))
    clone.__dict__.update(field.__dict__)
    return clone


def fresh_copy(field: Field, deep: bool) -> Field:
    """An unbound copy of a never-bound prototype field, for one serializer instance.

    DRF copies a field with `copy.deepcopy`, which runs the field's `__init__` again from the
    arguments it was made with: most of the cost of a create's serializer. A plain field is copied
    shallowly instead. Binding it to a serializer only sets attributes of the copy (`field_name`,
    `parent`, `source`, `label`...); what the copy shares with the prototype (validators, choices,
    error messages, style) is built by `__init__` and only read afterwards.

    A field that holds another field keeps DRF's deep copy: a nested serializer, a `ListField`'s
    `child`, a `ManyRelatedField`'s `child_relation` are bound to their parent when made, and a
    shared one would reach the prototype's serializer (and its context) instead of this one. So
    does a field whose default is a list, dict or set, which a shared copy would hand to every
    request. `deep` is `needs_deep_copy(field)`, worked out once per prototype.
    """
    return copy.deepcopy(field) if deep else shallow_copy(field)


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer, introspecting its model once per class instead of once per instance.

    DRF builds a ModelSerializer's fields from the model and `Meta` each time an instance is asked
    for them: on every request that validates or renders one. The result depends on the class
    alone, so it is built once; each instance gets its own copies (`fresh_copy`) and binds them to
    itself as usual. Likewise the validators DRF derives from the model's unique constraints: they
    hold no state, and DRF already shares `Meta.validators` between instances.
    """

    # Per class: each field's name, prototype and whether it needs a deep copy.
    _field_prototypes: ClassVar[dict[type, list[tuple[str, Field, bool]]]] = {}
    _validator_lists: ClassVar[dict[type, list]] = {}

    def get_fields(self) -> dict[str, Field]:
        prototypes = ModelSerializer._field_prototypes
        cls = type(self)
        if cls not in prototypes:
            prototypes[cls] = [
                (name, field, needs_deep_copy(field))
                for name, field in super().get_fields().items()
            ]
        return {name: fresh_copy(field, deep) for name, field, deep in prototypes[cls]}

    def get_validators(self) -> list:
        validators = ModelSerializer._validator_lists
        cls = type(self)
        if cls not in validators:
            validators[cls] = super().get_validators()
        return list(validators[cls])


def _forget_serializer_parts() -> None:
    ModelSerializer._field_prototypes.clear()
    ModelSerializer._validator_lists.clear()


process_state.register("serializers: field prototypes and validators", _forget_serializer_parts)


# Rows: a serializer's output from `QuerySet.values()` dicts, for lists that need no instances.


def value_columns(serializer_class: type[serializers.Serializer]) -> tuple[str, ...]:
    """The names `QuerySet.values()` gives the columns a serializer's readable fields read: each
    field's source, with `__` for its dots (`category.name` is `category__name`; a related
    field's source is the foreign key, whose value is the related id)."""
    return tuple(column for column, _, _ in _readers(serializer_class))


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


def _converter(field: Field) -> Callable[[Any, datetime.tzinfo], Any]:
    """How a field writes a column's value, for the values the ORM gives that column. What DRF's
    `field.to_representation` gives; a field this does not know is asked itself."""
    kind = type(field)
    if kind in (serializers.IntegerField, serializers.CharField, serializers.ChoiceField) or (
        isinstance(field, serializers.PrimaryKeyRelatedField) and field.pk_field is None
    ):
        # Text and integer columns come back as str and int, a foreign key as the related id:
        # what these fields give for them (a choice is given back as its key).
        return lambda value, zone: value
    if (
        kind is serializers.DecimalField
        and field.decimal_places is not None
        and not field.localize
        and not field.normalize_output
        and field.rounding is None
        and getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING) is True
    ):
        places = f".{field.decimal_places}f"
        # Formatting a Decimal rounds half to even as DRF's quantize does, and never uses float.
        return lambda value, zone: format(value, places)
    if kind is serializers.DateField and getattr(field, "format", api_settings.DATE_FORMAT) == (
        "iso-8601"
    ):
        return lambda value, zone: value.isoformat()
    if (
        kind is serializers.DateTimeField
        and getattr(field, "format", api_settings.DATETIME_FORMAT) == "iso-8601"
        and getattr(field, "timezone", None) is None
    ):
        return _instant
    return lambda value, zone: field.to_representation(value)


@functools.cache
def _readers(
    serializer_class: type[serializers.Serializer],
) -> tuple[tuple[str, str, Callable[[Any, datetime.tzinfo], Any]], ...]:
    """(column, key, converter) for each readable field of the class, in its order."""
    return tuple(
        ("__".join(field.source_attrs), name, _converter(field))
        for name, field in serializer_class().fields.items()
        if not field.write_only
    )


process_state.register("serializers: value readers", _readers.cache_clear)


def row_representation(
    serializer_class: type[serializers.Serializer],
    row: Mapping[str, Any],
    zone: datetime.tzinfo | None = None,
) -> dict[str, Any]:
    """What `serializer_class(instance).data` gives, from the instance's `value_columns`."""
    zone = zone or timezone.get_current_timezone()
    return {
        key: None if (value := row[column]) is None else convert(value, zone)
        for column, key, convert in _readers(serializer_class)
    }


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
        readers = _readers(type(self.child))
        return [
            {
                key: None if (value := row[column]) is None else convert(value, zone)
                for column, key, convert in readers
            }
            for row in rows
        ]
