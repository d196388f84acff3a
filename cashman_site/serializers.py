"""Serializer plumbing shared by every app."""

import copy
from typing import ClassVar

from rest_framework import serializers
from rest_framework.fields import Field

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
