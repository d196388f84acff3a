"""Serializer plumbing shared by every app."""

import copy
from typing import ClassVar

from rest_framework import serializers
from rest_framework.fields import Field


def fresh_copy(field: Field) -> Field:
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
    request.
    """
    if isinstance(field, serializers.BaseSerializer) or isinstance(
        field.default, list | dict | set
    ):
        return copy.deepcopy(field)
    if any(isinstance(value, Field) for value in vars(field).values()):
        return copy.deepcopy(field)
    return copy.copy(field)


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer, introspecting its model once per class instead of once per instance.

    DRF builds a ModelSerializer's fields from the model and `Meta` each time an instance is asked
    for them: on every request that validates or renders one. The result depends on the class
    alone, so it is built once; each instance gets its own copies (`fresh_copy`) and binds them to
    itself as usual. Likewise the validators DRF derives from the model's unique constraints: they
    hold no state, and DRF already shares `Meta.validators` between instances.
    """

    _field_prototypes: ClassVar[dict[type, dict[str, Field]]] = {}
    _validator_lists: ClassVar[dict[type, list]] = {}

    def get_fields(self) -> dict[str, Field]:
        prototypes = ModelSerializer._field_prototypes
        cls = type(self)
        if cls not in prototypes:
            prototypes[cls] = super().get_fields()
        return {name: fresh_copy(field) for name, field in prototypes[cls].items()}

    def get_validators(self) -> list:
        validators = ModelSerializer._validator_lists
        cls = type(self)
        if cls not in validators:
            validators[cls] = super().get_validators()
        return list(validators[cls])
