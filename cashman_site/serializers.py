"""Serializer plumbing shared by every app."""

import copy
from typing import ClassVar

from rest_framework import serializers
from rest_framework.fields import Field


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer, introspecting its model once per class instead of once per instance.

    DRF builds a ModelSerializer's fields from the model and `Meta` each time an instance is asked
    for them: on every request that validates or renders one. The result depends on the class
    alone, so it is built once; each instance gets deep copies, as DRF itself does for declared
    fields, and binds them to itself as usual. Likewise the validators DRF derives from the
    model's unique constraints: they hold no state, and DRF already shares `Meta.validators`
    between instances.
    """

    _field_prototypes: ClassVar[dict[type, dict[str, Field]]] = {}
    _validator_lists: ClassVar[dict[type, list]] = {}

    def get_fields(self) -> dict[str, Field]:
        prototypes = ModelSerializer._field_prototypes
        cls = type(self)
        if cls not in prototypes:
            prototypes[cls] = super().get_fields()
        return copy.deepcopy(prototypes[cls])

    def get_validators(self) -> list:
        validators = ModelSerializer._validator_lists
        cls = type(self)
        if cls not in validators:
            validators[cls] = super().get_validators()
        return list(validators[cls])
