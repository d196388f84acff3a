"""The JSON of households: ledgers, members, invitations, accounts and transfers."""

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from ledger import selectors
from ledger.choices import Role
from ledger.models import (
    AMOUNT_DECIMAL_PLACES,
    AMOUNT_MAX_DIGITS,
    Account,
    Invitation,
    Ledger,
    Membership,
    Transfer,
)
from ledger.serializers import SUMMARY_DIGITS, AccountField, LedgerField
from ledger.services.transfers import DEFAULT_DESCRIPTION, legs


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES, **kwargs
    )


class LedgerSerializer(serializers.ModelSerializer):
    role = serializers.ChoiceField(
        choices=Role.choices, read_only=True, help_text="Your role in this ledger."
    )
    personal = serializers.SerializerMethodField(
        help_text="Whether this is your own ledger, made at sign-up: it cannot be deleted."
    )

    class Meta:
        model = Ledger
        fields = ["id", "name", "role", "personal", "created_at"]
        read_only_fields = ["id", "created_at"]

    def get_personal(self, ledger: Ledger) -> bool:
        return ledger.personal_for_id is not None


class MemberSerializer(serializers.ModelSerializer):
    user = serializers.IntegerField(source="user_id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ["user", "email", "name", "role", "created_at"]
        read_only_fields = ["created_at"]

    def get_name(self, membership: Membership) -> str:
        return membership.user.get_full_name()


class InvitationSerializer(serializers.ModelSerializer):
    ledger_name = serializers.CharField(source="ledger.name", read_only=True)
    invited_by = serializers.EmailField(
        source="invited_by.email", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Invitation
        fields = [
            "id",
            "ledger",
            "ledger_name",
            "email",
            "role",
            "status",
            "invited_by",
            "created_at",
            "expires_at",
        ]
        read_only_fields = ["id", "ledger", "status", "created_at", "expires_at"]


class InvitationAcceptSerializer(serializers.Serializer):
    token = serializers.CharField(
        max_length=100, help_text="The token the invitation's email gave."
    )


class AccountSerializer(serializers.ModelSerializer):
    ledger = LedgerField(
        required=False, help_text="Its ledger; on create, your personal ledger if left out."
    )
    opening_balance = _money(required=False)
    balance = serializers.SerializerMethodField(
        help_text="Opening balance plus every transaction of the account."
    )
    cleared_balance = serializers.SerializerMethodField(
        help_text="Opening balance plus its cleared and reconciled transactions."
    )

    class Meta:
        model = Account
        fields = [
            "id",
            "ledger",
            "name",
            "kind",
            "opening_balance",
            "opening_date",
            "archived",
            "balance",
            "cleared_balance",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        # Names are unique per ledger whatever their case: the service's full_clean checks it.
        validators: list = []

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list):
            fields["ledger"].read_only = True  # an account stays in its ledger
        return fields

    def get_balance(self, account: Account) -> str:
        return f"{selectors.balance(account, 'balance_cents'):.2f}"

    def get_cleared_balance(self, account: Account) -> str:
        return f"{selectors.balance(account, 'cleared_cents'):.2f}"


def _balance(**kwargs: Any) -> serializers.DecimalField:
    # A balance may outgrow one amount's digits: the summaries' width.
    return serializers.DecimalField(
        max_digits=SUMMARY_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES, **kwargs
    )


class ReconcileSerializer(serializers.Serializer):
    statement_date = serializers.DateField()
    statement_balance = _balance(help_text="The balance the bank's statement shows on that date.")


class ReconcileMissSerializer(serializers.Serializer):
    detail = serializers.CharField()
    difference = _balance(help_text="The statement's balance less the account's.")
    cleared_balance = _balance(help_text="The account's, up to the statement's date.")
    statement_balance = _balance()


class ReconciledSerializer(serializers.Serializer):
    reconciled = serializers.IntegerField(help_text="How many transactions were marked.")
    account = AccountSerializer()


class TransferSerializer(serializers.ModelSerializer):
    from_account = AccountField(help_text="The account the money leaves.")
    to_account = AccountField(help_text="The account the money reaches (any ledger you write).")
    amount = _money(min_value=Decimal("0.01"), help_text="Positive: how much moves.")
    date = serializers.DateField(required=False, help_text="Today if left out.")
    description = serializers.CharField(
        max_length=255, required=False, default=DEFAULT_DESCRIPTION, allow_blank=False
    )
    from_transaction = serializers.IntegerField(read_only=True, help_text="The leg leaving.")
    to_transaction = serializers.IntegerField(read_only=True, help_text="The leg arriving.")

    class Meta:
        model = Transfer
        fields = [
            "id",
            "from_account",
            "to_account",
            "amount",
            "date",
            "description",
            "from_transaction",
            "to_transaction",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]

    def to_representation(self, transfer: Transfer) -> dict[str, Any]:
        out, into = legs(transfer)
        return {
            "id": transfer.pk,
            "from_account": out.account_id,
            "to_account": into.account_id,
            "amount": f"{into.amount:.2f}",
            "date": into.date.isoformat(),
            "description": into.description,
            "from_transaction": out.pk,
            "to_transaction": into.pk,
            "created_at": serializers.DateTimeField().to_representation(transfer.created_at),
        }
