"""Budgets over the API: one per category and month of a ledger, their copy to another month, and
a month's status (what is budgeted, spent, carried and left). Who may do what is `ledger.scope`'s,
through the selectors and the services."""

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cashman_site.schema import ValidationErrorSerializer
from ledger.filters import BudgetFilter, FilterBackend
from ledger.models import Budget
from ledger.selectors.budgets import budget_status, budgets_for
from ledger.serializers_budgets import (
    MONTH_PATTERN,
    BudgetCopyResultSerializer,
    BudgetCopySerializer,
    BudgetSerializer,
    BudgetStatusQuerySerializer,
    BudgetStatusSerializer,
)
from ledger.services.budgets import budget_create, budget_delete, budget_update, budgets_copy
from ledger.view_mixins import IdempotentCreateMixin, VersionedObjectMixin

STATUS_DESCRIPTION = """The budget status of one ledger (`ledger=`, one you are in) in one month
(`month=YYYY-MM`), computed when read from the budgets and the monthly totals of the
transactions: a row per category with a budget that month, by name. For each row:

- `spent` = the month's expenses in the category less its refunds (incomes in the category);
  transfers never count;
- `carried` = for a `rollover` category, last month's `available` (positive: a leftover;
  negative: an overspend), from the first month the category has a budget on (a month without
  one counts with 0 budgeted, and its spending still counts); for any other category 0: a
  leftover is dropped and an overspend is not carried;
- `available` = `budgeted` + `carried` - `spent`;
- `over` = `available` < 0.

A rollover category without a budget this month has a row (budgeted 0) when something is
carried into it or spent in it. `total` sums the rows' amounts and adds `unbudgeted_spent`:
this month's spending net of refunds in each category without a row (a category whose incomes
exceed its expenses, a salary, counts 0), plus the expenses without a category. Viewers read
it too. See docs/budgets.md."""


@extend_schema(tags=["budgets"])
@extend_schema_view(
    create=extend_schema(
        description="A budget for a category in a month. `ledger` may be left out (the "
        "category's); given, the category must be in it (400 on `category`). A second budget "
        "for the same category and month is a 400 on `month`. Owners and editors only (403)."
    ),
    destroy=extend_schema(description="Delete a budget. Its transactions are not touched."),
)
class BudgetViewSet(IdempotentCreateMixin, VersionedObjectMixin, viewsets.ModelViewSet):
    """The budgets of every ledger you are in: what you mean to spend in a category in a month
    (`YYYY-MM`), newest month first. Filters: `ledger`, `month`, `category`. One per category and
    month: a second is a 400 on `month`. Owners and editors change them; viewers read them.
    See `status/` for what is spent and left, and `copy/` to carry a month's budgets over."""

    queryset = Budget.objects.none()  # the model, for the schema; get_queryset scopes it
    serializer_class = BudgetSerializer
    filter_backends = [FilterBackend]
    filterset_class = BudgetFilter

    def get_queryset(self) -> QuerySet[Budget]:
        return budgets_for(user=self.request.user)

    def _read(self, budget: Budget) -> Budget:
        return self.get_queryset().get(pk=budget.pk)

    def perform_create(self, serializer: BudgetSerializer) -> None:
        budget = budget_create(actor=self.request.user, **serializer.validated_data)
        serializer.instance = self.written_instance = self._read(budget)

    def perform_update(self, serializer: BudgetSerializer) -> None:
        budget = budget_update(
            budget=serializer.instance,
            actor=self.request.user,
            data=dict(serializer.validated_data),
            if_version=self.if_match_version(serializer.instance),
        )
        serializer.instance = self.written_instance = self._read(budget)

    def perform_destroy(self, instance: Budget) -> None:
        budget_delete(
            budget=instance, actor=self.request.user, if_version=self.if_match_version(instance)
        )

    @extend_schema(
        description=STATUS_DESCRIPTION,
        parameters=[
            OpenApiParameter(
                "ledger", OpenApiTypes.INT, required=True, description="A ledger's id."
            ),
            OpenApiParameter(
                "month",
                {"type": "string", "pattern": MONTH_PATTERN},
                required=True,
                description="YYYY-MM",
            ),
        ],
        responses={
            200: BudgetStatusSerializer,
            400: OpenApiResponse(
                ValidationErrorSerializer,
                description="No such ledger of yours, or a month that is not YYYY-MM.",
            ),
        },
    )
    @action(detail=False, filter_backends=[], pagination_class=None)
    def status(self, request: Request) -> Response:
        query = BudgetStatusQuerySerializer(
            data=request.query_params, context=self.get_serializer_context()
        )
        query.is_valid(raise_exception=True)
        answer = budget_status(
            user=request.user,
            ledger_id=query.validated_data["ledger"].pk,
            month=query.validated_data["month"],
        )
        return Response(BudgetStatusSerializer(answer).data)

    @extend_schema(
        request=BudgetCopySerializer,
        responses={200: BudgetCopyResultSerializer},
        description="Copy a ledger's budgets of `from_month` to `to_month`, category by "
        "category. A category that already has a budget in `to_month` keeps it: the answer "
        "lists those in `skipped`, and the copies in `created`. `from_month` and `to_month` "
        "must differ (400 on `to_month`). Owners and editors only (403).",
    )
    @action(
        detail=False,
        methods=["post"],
        filter_backends=[],
        pagination_class=None,
        serializer_class=BudgetCopySerializer,  # the browsable API's form
    )
    def copy(self, request: Request) -> Response:
        given = self.get_serializer(data=request.data)
        given.is_valid(raise_exception=True)
        result = budgets_copy(actor=request.user, **given.validated_data)
        context = self.get_serializer_context()
        return Response(BudgetCopyResultSerializer(result, context=context).data)
