"""cashman_site.serializers.ModelSerializer: fields introspected once per class, never shared."""

from rest_framework import serializers

from accounts.serializers import UserSerializer
from cashman_site.serializers import ModelSerializer
from ledger.serializers import TransactionSerializer, TypedTransactionSerializer


def calls_to(monkeypatch, method: str, cache: str) -> list[type]:
    """Empty the class-level `cache` and record the classes DRF's own `method` runs for."""
    monkeypatch.setattr(ModelSerializer, cache, {})
    calls: list[type] = []
    original = getattr(serializers.ModelSerializer, method)

    def counting(self):
        calls.append(type(self))
        return original(self)

    monkeypatch.setattr(serializers.ModelSerializer, method, counting)
    return calls


def test_the_model_is_introspected_once_per_class(monkeypatch):
    calls = calls_to(monkeypatch, "get_fields", "_field_prototypes")
    for _ in range(3):
        assert list(TransactionSerializer().fields) == TransactionSerializer.Meta.fields
        assert "type" in TypedTransactionSerializer().fields
        assert "email" in UserSerializer().fields
    assert calls == [TransactionSerializer, TypedTransactionSerializer, UserSerializer]


def test_validators_from_unique_constraints_are_derived_once(monkeypatch):
    calls = calls_to(monkeypatch, "get_validators", "_validator_lists")
    first, second = UserSerializer(), UserSerializer()
    assert first.validators == second.validators
    assert first.validators is not second.validators  # a list of its own to append to
    first.validators.append(object())
    assert len(second.validators) == len(first.validators) - 1
    assert calls == [UserSerializer]


def test_each_instance_gets_fields_of_its_own():
    first, second = TransactionSerializer(), TransactionSerializer()
    assert first.fields["amount"] is not second.fields["amount"]
    assert first.fields["amount"].parent is first
    assert second.fields["category"].parent is second
    # A subclass keeps its own declarations: the typed endpoints' type is read-only.
    assert TypedTransactionSerializer().fields["type"].read_only
    assert not TransactionSerializer().fields["type"].read_only
