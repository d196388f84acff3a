"""cashman_site.serializers.ModelSerializer: fields introspected once per class, never shared."""

from rest_framework import serializers

from accounts.serializers import UserSerializer
from cashman_site.serializers import ModelSerializer, shallow_copy
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


def test_plain_fields_are_copied_without_running_their_init(monkeypatch):
    assert TransactionSerializer().fields  # the class's prototypes exist
    serializer = TransactionSerializer(context={"request": None})
    inits: list[type] = []
    original = serializers.Field.__init__

    def counting(self, *args, **kwargs):
        inits.append(type(self))
        original(self, *args, **kwargs)

    monkeypatch.setattr(serializers.Field, "__init__", counting)
    fields = serializer.fields
    assert inits == []  # DRF's deepcopy would make every field again: 9 __init__ calls
    assert set(fields) == set(TransactionSerializer.Meta.fields)


class WithChildren(ModelSerializer):
    """Fields that hold fields (a child, a nested serializer) or a mutable default."""

    tags = serializers.ListField(child=serializers.CharField(), required=False)
    owner_detail = UserSerializer(source="owner", read_only=True)
    extra = serializers.JSONField(default={})

    class Meta:
        model = TransactionSerializer.Meta.model
        fields = ["id", "description", "tags", "owner_detail", "extra"]


def test_a_field_that_holds_fields_is_copied_deeply():
    first, second = WithChildren(context={"who": 1}), WithChildren(context={"who": 2})
    tags = first.fields["tags"]
    assert tags.child is not second.fields["tags"].child
    assert tags.child.parent is tags
    assert tags.child.context == {"who": 1}  # reached through its own parent, not a prototype's
    assert second.fields["tags"].child.context == {"who": 2}
    email = first.fields["owner_detail"].fields["email"]
    assert email is not second.fields["owner_detail"].fields["email"]
    assert email.root is first
    # A mutable default is not handed to every instance.
    assert first.fields["extra"].default == {}
    assert first.fields["extra"].default is not second.fields["extra"].default


def test_shared_parts_of_a_shallow_copy_are_only_read():
    first, second = TransactionSerializer(), TransactionSerializer()
    # Built by __init__ and shared, never changed by binding or validating.
    assert first.fields["description"].validators is second.fields["description"].validators
    before = list(first.fields["description"].validators)
    first.fields["description"].run_validation("coffee")
    assert second.fields["description"].validators == before
    # Binding set the copy's own attributes only.
    assert first.fields["description"].parent is first
    assert second.fields["description"].parent is second


def test_a_shallow_copy_is_a_new_field_with_the_same_attributes():
    prototype = serializers.DecimalField(max_digits=9, decimal_places=2, min_value=1)
    clone = shallow_copy(prototype)
    assert type(clone) is serializers.DecimalField
    assert clone is not prototype
    assert vars(clone) == vars(prototype)
    clone.bind("amount", serializers.Serializer())
    assert clone.field_name == "amount"
    assert getattr(prototype, "field_name", None) is None  # binding the copy left it unbound
    assert clone.to_internal_value("1.50") == prototype.to_internal_value("1.50")
