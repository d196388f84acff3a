from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cashman_site.pagination import KeysetPagesMixin
from cashman_site.serializers import row_representation, value_columns
from ledger import cached_reads, selectors, services
from ledger.choices import TransactionType
from ledger.filters import FilterBackend, LedgerRowFilter, StableOrderingFilter, TransactionFilter
from ledger.models import Category, Transaction
from ledger.serializers import (
    CategorySerializer,
    CategorySummarySerializer,
    MonthlySummarySerializer,
    SummarySerializer,
    TransactionHistorySerializer,
    TransactionSerializer,
    TypedTransactionSerializer,
)
from ledger.view_mixins import IdempotentCreateMixin, VersionedObjectMixin
from ledger.views_bulk import BATCH_SCHEMA, batch_create


@extend_schema(tags=["transactions"])
class TransactionViewSet(
    KeysetPagesMixin, IdempotentCreateMixin, VersionedObjectMixin, viewsets.ModelViewSet
):
    """The transactions of every ledger you are in, newest first. Expenses are negative, incomes
    positive; a transfer's two legs are of type `TRANSFER` (see `transfers/`).

    Filters: `ledger`, `account`, `type`, `status`, `date_after`, `date_before` (inclusive),
    `category` (an id, or `none`), `amount_min` / `amount_max` (compare the amount's size, sign
    ignored) and `search` (description, case-insensitive). `ordering` accepts `date`, `amount`,
    `created_at` (prefix `-` for descending). Viewers of a ledger read its transactions; owners
    and editors change them.
    """

    queryset = Transaction.objects.none()  # the model, for the schema; get_queryset scopes it
    serializer_class = TransactionSerializer
    filter_backends = [FilterBackend, StableOrderingFilter]
    filterset_class = TransactionFilter
    ordering_fields = ["date", "amount", "created_at"]
    ordering = ["-date", "-id"]
    #: Set by the incomes/ and expenses/ endpoints, which list and create one type only.
    transaction_type: str | None = None

    def get_queryset(self) -> QuerySet[Transaction]:
        if self.action == "list":
            # A page is serialised from the columns the serializer reads, without model
            # instances (`ValuesListSerializer`); the paginator reads them through a fast path.
            return selectors.transaction_rows_for(
                user=self.request.user,
                columns=value_columns(self.get_serializer_class()),
                transaction_type=self.transaction_type,
            )
        return selectors.transactions_for(
            user=self.request.user, transaction_type=self.transaction_type
        )

    def count_rows(self, queryset: QuerySet) -> int:
        """The list's total for its pagination, cached until the user's next write: added up
        from the rollups when they answer the filters (see `SummaryViewSet`), else counted."""
        params = cached_reads.params_key(self.request.query_params, TransactionFilter.base_filters)
        name = f"count:{self.transaction_type or 'all'}:{params}"
        rollups = rollups_of(self, self.transaction_type)
        counter = queryset.count if rollups is None else rollups.count
        return cached_reads.cached(self.request.user, name, counter)

    def perform_create(self, serializer: TransactionSerializer) -> None:
        data = dict(serializer.validated_data)
        if self.transaction_type is not None:
            data["type"] = self.transaction_type
        serializer.instance = services.transaction_create(actor=self.request.user, **data)
        self.written_instance = serializer.instance

    def perform_update(self, serializer: TransactionSerializer) -> None:
        serializer.instance = services.transaction_update(
            transaction=serializer.instance,
            data=dict(serializer.validated_data),
            if_version=self.if_match_version(serializer.instance),
            actor=self.request.user,
        )
        self.written_instance = serializer.instance

    def perform_destroy(self, instance: Transaction) -> None:
        services.transaction_delete(
            transaction=instance,
            if_version=self.if_match_version(instance),
            actor=self.request.user,
        )

    @BATCH_SCHEMA
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def batch(self, request: Request) -> Response:
        """Create up to CASHMAN_BATCH_MAX_ROWS transactions at once, all or none: a result per
        row (created, duplicate, or invalid with its errors). `?dry_run=true` saves nothing."""
        return self.run_idempotently(
            request, lambda: batch_create(self, request, transaction_type=self.transaction_type)
        )

    @extend_schema(responses=TransactionHistorySerializer(many=True), filters=False)
    @action(detail=True, filter_backends=[], pagination_class=None)
    def history(self, request: Request, pk: str | None = None) -> Response:
        """Every create, update and delete of this transaction, oldest first: who, when, the
        values after the change, and what changed. Still readable after the transaction is
        deleted."""
        records = selectors.transaction_history(user=request.user, transaction_id=pk)
        if not records:
            raise Http404("No such transaction.")
        return Response(TransactionHistorySerializer(records, many=True).data)


@extend_schema(tags=["incomes"])
class IncomeViewSet(TransactionViewSet):
    """Your incomes. An amount must be positive."""

    serializer_class = TypedTransactionSerializer
    transaction_type = TransactionType.INCOME


@extend_schema(tags=["expenses"])
class ExpenseViewSet(TransactionViewSet):
    """Your expenses. Stored negative whatever sign you send: `20` and `-20` both give `-20.00`."""

    serializer_class = TypedTransactionSerializer
    transaction_type = TransactionType.EXPENSE


@extend_schema(tags=["categories"])
@extend_schema_view(
    destroy=extend_schema(
        description="Delete a category. Its transactions are kept, with no category."
    )
)
class CategoryViewSet(IdempotentCreateMixin, VersionedObjectMixin, viewsets.ModelViewSet):
    """The categories of every ledger you are in (`ledger=` for one). Names are unique per
    ledger, whatever their case; a transaction's category is in its account's ledger."""

    queryset = Category.objects.none()  # the model, for the schema; get_queryset scopes it
    serializer_class = CategorySerializer

    filter_backends = [FilterBackend]
    filterset_class = LedgerRowFilter

    def get_queryset(self) -> QuerySet[Category]:
        return selectors.categories_for(user=self.request.user)

    def perform_create(self, serializer: CategorySerializer) -> None:
        serializer.instance = services.category_create(
            actor=self.request.user, **serializer.validated_data
        )
        self.written_instance = serializer.instance

    def perform_update(self, serializer: CategorySerializer) -> None:
        serializer.instance = services.category_update(
            category=serializer.instance,
            if_version=self.if_match_version(serializer.instance),
            actor=self.request.user,
            **serializer.validated_data,
        )
        self.written_instance = serializer.instance

    def perform_destroy(self, instance: Category) -> None:
        services.category_delete(
            category=instance,
            if_version=self.if_match_version(instance),
            actor=self.request.user,
        )


def rollups_of(view: Any, transaction_type: str | None = None) -> selectors.RollupSet | None:
    """The rollups of the transactions a list or summary view reads, narrowed by the filters
    its `FilterBackend` validated; None when a filter (a search, an amount) needs the rows."""
    filterset = getattr(view, "filterset", None)
    if filterset is None:
        return selectors.RollupSet(view.request.user, transaction_type)
    return filterset.rollups(view.request.user, transaction_type)


@extend_schema(tags=["summary"])
class SummaryViewSet(viewsets.GenericViewSet):
    """Totals of the transactions of every ledger you are in, with the list filters applied
    (`ledger=`, `account=`...).

    `expense` is the (negative) sum of expenses, so `balance = income + expense`. Transfers only
    move money between accounts: they count in `transfers_in` and `transfers_out` (negative),
    never in income, expense or balance.

    Without a filter, or with only `ledger`, `account`, `type`, `status`, `category` and the
    dates, they are added up from the rollups (totals per day and month that every write keeps),
    so their cost does not grow with the number of transactions; `search`, `amount_min` and
    `amount_max` add up the matching transactions themselves.
    """

    queryset = Transaction.objects.none()  # the model, for the schema; get_queryset scopes it
    filter_backends = [FilterBackend]
    filterset_class = TransactionFilter
    pagination_class = None
    serializer_class = SummarySerializer

    def get_queryset(self) -> QuerySet[Transaction]:
        return selectors.transactions_for(user=self.request.user)

    def summarise(self, name: str, summary: Callable[..., Any]) -> Response:
        """The serialised summary, cached per user and filters until that user's next write:
        a repeated summary is answered without reading the rollups or the transactions.

        `summary(transactions=...)` summarises the rollups, or the filtered transactions."""

        def serialised() -> Any:
            transactions = self.filter_queryset(self.get_queryset())
            rows = summary(transactions=rollups_of(self) or transactions)
            serializer_class = self.get_serializer_class()
            if isinstance(rows, list):
                zone = timezone.get_current_timezone()
                return [row_representation(serializer_class, row, zone) for row in rows]
            return row_representation(serializer_class, rows)

        params = cached_reads.params_key(self.request.query_params, TransactionFilter.base_filters)
        return Response(cached_reads.cached(self.request.user, f"{name}:{params}", serialised))

    def list(self, request: Request) -> Response:
        return self.summarise("summary", selectors.summary_total)

    @extend_schema(responses=MonthlySummarySerializer(many=True))
    @action(detail=False, serializer_class=MonthlySummarySerializer)
    def monthly(self, request: Request) -> Response:
        """One row per month (`YYYY-MM`), newest first."""
        return self.summarise("summary-monthly", selectors.summary_monthly)

    @extend_schema(responses=CategorySummarySerializer(many=True))
    @action(detail=False, url_path="by-category", serializer_class=CategorySummarySerializer)
    def by_category(self, request: Request) -> Response:
        """One row per category, and one with `category: null` for uncategorised rows."""
        return self.summarise("summary-by-category", selectors.summary_by_category)
