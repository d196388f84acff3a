"""Households over the API: ledgers, their members and invitations, accounts (with their
reconciliation) and transfers. Who may do what is `ledger.scope`'s, through the services."""

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ledger import scope, selectors, services
from ledger.filters import AccountFilter, FilterBackend
from ledger.models import Account, Invitation, Ledger, Membership, Transfer
from ledger.serializers_households import (
    AccountSerializer,
    InvitationAcceptSerializer,
    InvitationSerializer,
    LedgerSerializer,
    MemberSerializer,
    ReconciledSerializer,
    ReconcileMissSerializer,
    ReconcileSerializer,
    TransferSerializer,
)
from ledger.view_mixins import IdempotentCreateMixin, VersionedObjectMixin

LEDGER_ID = OpenApiParameter("ledger_pk", int, OpenApiParameter.PATH, description="A ledger's id.")


@extend_schema(tags=["ledgers"])
class LedgerViewSet(IdempotentCreateMixin, VersionedObjectMixin, viewsets.ModelViewSet):
    """The ledgers you are in, with your `role` in each. You own a ledger you create; it starts
    with one account, "Main". Owners rename and delete a ledger; your personal ledger (made at
    sign-up) cannot be deleted (409). Deleting a ledger deletes everything in it."""

    queryset = Ledger.objects.none()  # the model, for the schema; get_queryset scopes it
    serializer_class = LedgerSerializer

    def get_queryset(self) -> QuerySet[Ledger]:
        return selectors.ledgers_for(user=self.request.user)

    def perform_create(self, serializer: LedgerSerializer) -> None:
        ledger = services.ledger_create(user=self.request.user, **serializer.validated_data)
        serializer.instance = self.written_instance = self.get_queryset().get(pk=ledger.pk)

    def perform_update(self, serializer: LedgerSerializer) -> None:
        services.ledger_update(
            ledger=serializer.instance,
            actor=self.request.user,
            if_version=self.if_match_version(serializer.instance),
            **serializer.validated_data,
        )
        self.written_instance = serializer.instance

    def perform_destroy(self, instance: Ledger) -> None:
        services.ledger_delete(
            ledger=instance, actor=self.request.user, if_version=self.if_match_version(instance)
        )


class _InLedger:
    """A viewset under `ledgers/{ledger_pk}/`: a ledger you are not in is a 404."""

    kwargs: dict[str, Any]
    request: Request

    def ledger(self) -> Ledger:
        found = selectors.ledger_rows_for(user=self.request.user).filter(
            pk=_int(self.kwargs["ledger_pk"])
        )
        ledger = found.first()
        if ledger is None:
            raise Http404("No such ledger.")
        return ledger


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404("Not found.") from None


@extend_schema(tags=["ledgers"], parameters=[LEDGER_ID])
@extend_schema_view(
    partial_update=extend_schema(description="An owner changes a member's role."),
    destroy=extend_schema(
        description="An owner removes a member; any member removes themselves. A ledger keeps "
        "at least one owner (409)."
    ),
)
class MemberViewSet(
    _InLedger,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The members of a ledger and their roles. Members join by invitation."""

    queryset = Membership.objects.none()  # the model, for the schema; get_queryset scopes it
    serializer_class = MemberSerializer
    lookup_field = "user_id"
    lookup_value_regex = "[0-9]{1,18}"  # an id too large for the database is no id: 404
    http_method_names = ["get", "patch", "delete", "head", "options"]
    pagination_class = None

    def get_queryset(self) -> QuerySet[Membership]:
        return selectors.members_of(user=self.request.user, ledger_id=self.ledger().pk)

    def perform_update(self, serializer: MemberSerializer) -> None:
        serializer.instance = services.member_update(
            membership=serializer.instance,
            actor=self.request.user,
            role=serializer.validated_data.get("role"),
        )

    def perform_destroy(self, instance: Membership) -> None:
        services.member_remove(membership=instance, actor=self.request.user)


@extend_schema(tags=["invitations"], parameters=[LEDGER_ID])
class LedgerInvitationViewSet(
    _InLedger,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """An owner invites an email address into a ledger, with a role: the invitation is emailed,
    is accepted or declined once by the user with that address, and expires after 7 days.
    Listing gives the pending ones; deleting one withdraws it. Owners only (403)."""

    queryset = Invitation.objects.none()  # the model, for the schema; get_queryset scopes it
    serializer_class = InvitationSerializer
    lookup_value_regex = "[0-9]{1,18}"  # an id too large for the database is no id: 404
    pagination_class = None

    def get_queryset(self) -> QuerySet[Invitation]:
        ledger = self.ledger()
        scope.require_owner(self.request.user, ledger.pk)
        return selectors.invitations_of(user=self.request.user, ledger_id=ledger.pk)

    def perform_create(self, serializer: InvitationSerializer) -> None:
        serializer.instance = services.invitation_create(
            ledger=self.ledger(),
            actor=self.request.user,
            email=serializer.validated_data["email"],
            role=serializer.validated_data["role"],
        )

    def perform_destroy(self, instance: Invitation) -> None:
        services.invitation_revoke(invitation=instance, actor=self.request.user)


@extend_schema(tags=["invitations"])
class InvitationViewSet(viewsets.ReadOnlyModelViewSet):
    """The invitations waiting for you: to your email address, pending and not expired. One
    already answered, or expired, is still readable by its id, and answering it is a 409."""

    queryset = Invitation.objects.none()  # the model, for the schema; get_queryset scopes it
    serializer_class = InvitationSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Invitation]:
        if self.action == "list":
            return selectors.invitations_for(user=self.request.user)
        return selectors.invitations_to(user=self.request.user)

    def _answer(self, answer: Any, **given: Any) -> Response:
        invitation = self.get_object()
        answer(invitation=invitation, user=self.request.user, **given)
        invitation.refresh_from_db()
        return Response(InvitationSerializer(invitation).data)

    @extend_schema(request=InvitationAcceptSerializer, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """Join the ledger with the invitation's role, giving the token its email carried (an
        account that only claims the address cannot join)."""
        given = InvitationAcceptSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        return self._answer(services.invitation_accept, token=given.validated_data["token"])

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(services.invitation_decline)


@extend_schema(tags=["accounts"])
@extend_schema_view(
    destroy=extend_schema(
        description="Delete an account without transactions; one with them is a 409: archive it."
    )
)
class AccountViewSet(IdempotentCreateMixin, VersionedObjectMixin, viewsets.ModelViewSet):
    """The accounts of every ledger you are in (`ledger=`, `archived=` filter them), each with
    its `balance` (opening balance plus its transactions) and `cleared_balance` (opening balance
    plus its cleared and reconciled ones). Names are unique per ledger whatever their case.
    Owners and editors change them; an archived account takes no new transactions."""

    queryset = Account.objects.none()  # the model, for the schema; get_queryset scopes it
    serializer_class = AccountSerializer
    filter_backends = [FilterBackend]
    filterset_class = AccountFilter

    def get_queryset(self) -> QuerySet[Account]:
        return selectors.accounts_for(user=self.request.user)

    def _read(self, account: Account) -> Account:
        return self.get_queryset().get(pk=account.pk)

    def perform_create(self, serializer: AccountSerializer) -> None:
        account = services.account_create(actor=self.request.user, **serializer.validated_data)
        serializer.instance = self.written_instance = self._read(account)

    def perform_update(self, serializer: AccountSerializer) -> None:
        account = services.account_update(
            account=serializer.instance,
            actor=self.request.user,
            data=dict(serializer.validated_data),
            if_version=self.if_match_version(serializer.instance),
        )
        serializer.instance = self.written_instance = self._read(account)

    def perform_destroy(self, instance: Account) -> None:
        services.account_delete(
            account=instance, actor=self.request.user, if_version=self.if_match_version(instance)
        )

    @extend_schema(
        request=ReconcileSerializer,
        responses={200: ReconciledSerializer, 409: ReconcileMissSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def reconcile(self, request: Request, pk: str | None = None) -> Response:
        """Check the account against a bank statement: when its opening balance plus its
        reconciled and cleared transactions up to `statement_date` come to `statement_balance`,
        those cleared ones become reconciled (their amount, date and account are then fixed).
        Otherwise 409, with the `difference` (statement less account), and nothing changes."""
        account = self.get_object()
        given = ReconcileSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        count = services.account_reconcile(
            account=account, actor=request.user, **given.validated_data
        )
        account = self._read(account)
        body = {"reconciled": count, "account": self.get_serializer(account).data}
        return Response(body, status=status.HTTP_200_OK)


@extend_schema(tags=["transfers"])
class TransferViewSet(IdempotentCreateMixin, VersionedObjectMixin, viewsets.ModelViewSet):
    """Money moved between two of your accounts (in one ledger or two you may write): two
    transactions of type TRANSFER, negative on `from_account`, positive on `to_account`, written,
    changed and deleted together. Transfers count in account balances and in the summaries'
    `transfers_in` / `transfers_out`, never as income or expense. Listed here when you may see
    both accounts."""

    queryset = Transfer.objects.none()  # the model, for the schema; get_queryset scopes it
    serializer_class = TransferSerializer

    def get_queryset(self) -> QuerySet[Transfer]:
        return selectors.transfers_for(user=self.request.user)

    def perform_create(self, serializer: TransferSerializer) -> None:
        transfer = services.transfer_create(actor=self.request.user, **serializer.validated_data)
        serializer.instance = self.written_instance = self.get_queryset().get(pk=transfer.pk)

    def perform_update(self, serializer: TransferSerializer) -> None:
        transfer = services.transfer_update(
            transfer=serializer.instance,
            actor=self.request.user,
            data=dict(serializer.validated_data),
            if_version=self.if_match_version(serializer.instance),
        )
        serializer.instance = self.written_instance = self.get_queryset().get(pk=transfer.pk)

    def perform_destroy(self, instance: Transfer) -> None:
        services.transfer_delete(
            transfer=instance, actor=self.request.user, if_version=self.if_match_version(instance)
        )
