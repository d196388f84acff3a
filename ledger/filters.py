"""Filters shared by every transaction list and every summary."""

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django_filters import utils
from django_filters.constants import EMPTY_VALUES
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field
from rest_framework.filters import OrderingFilter

from cashman_site.fastpaths.filters import DateFilter, FormCachingFilterSet
from ledger import selectors
from ledger.choices import TransactionStatus, TransactionType
from ledger.models import (
    AMOUNT_DECIMAL_PLACES,
    AMOUNT_MAX_DIGITS,
    Account,
    Budget,
    Category,
    Ledger,
    Schedule,
    Transaction,
)
from ledger.selectors.rollups import FILTERS as ROLLUP_FILTERS
from ledger.serializers_budgets import MONTH_ERROR, MONTH_PATTERN, parse_month

DATE_FILTERS = ("date_after", "date_before")


def _own_categories(request) -> QuerySet[Category]:
    if request is None or not request.user.is_authenticated:
        return Category.objects.none()
    return selectors.categories_for(user=request.user)


def _own_ledgers(request) -> QuerySet[Ledger]:
    if request is None or not request.user.is_authenticated:
        return Ledger.objects.none()
    return selectors.ledger_rows_for(user=request.user)


def _own_accounts(request) -> QuerySet[Account]:
    if request is None or not request.user.is_authenticated:
        return Account.objects.none()
    return selectors.account_rows_for(user=request.user)


def _ledger_filter() -> django_filters.ModelChoiceFilter:
    return django_filters.ModelChoiceFilter(queryset=_own_ledgers, label="Ledger id")


class LedgerRowFilter(FormCachingFilterSet):
    """`ledger=`: the categories of one of your ledgers."""

    ledger = _ledger_filter()

    class Meta:
        model = Category
        fields = ["ledger"]


class AccountFilter(FormCachingFilterSet):
    ledger = _ledger_filter()
    archived = django_filters.BooleanFilter()

    class Meta:
        model = Account
        fields = ["ledger", "archived"]


class AmountFilter(django_filters.NumberFilter):
    field_class = django_filters.fields.forms.DecimalField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", AMOUNT_MAX_DIGITS)
        kwargs.setdefault("decimal_places", AMOUNT_DECIMAL_PLACES)
        kwargs.setdefault("min_value", Decimal("0"))
        super().__init__(*args, **kwargs)


class TransactionFilter(FormCachingFilterSet):
    """The list's and the summaries' filters. A `FormCachingFilterSet` (a fast path): its form
    class is built once, and a list's filterset holds only the filters the request gives."""

    ledger = _ledger_filter()
    account = django_filters.ModelChoiceFilter(queryset=_own_accounts, label="Account id")
    type = django_filters.ChoiceFilter(choices=TransactionType.choices)
    status = django_filters.ChoiceFilter(choices=TransactionStatus.choices)
    date_after = DateFilter(
        field_name="date", lookup_expr="gte", label="On or after this date (YYYY-MM-DD)"
    )
    date_before = DateFilter(
        field_name="date", lookup_expr="lte", label="On or before this date (YYYY-MM-DD)"
    )
    category = django_filters.ModelChoiceFilter(
        queryset=_own_categories,
        null_value="none",
        null_label="No category",
        label="Category id, or 'none' for uncategorised",
    )
    amount_min = AmountFilter(
        method="filter_amount_min", label="Size of the amount at least (sign ignored)"
    )
    amount_max = AmountFilter(
        method="filter_amount_max", label="Size of the amount at most (sign ignored)"
    )
    search = django_filters.CharFilter(
        field_name="description", lookup_expr="icontains", label="Text in the description"
    )

    class Meta:
        model = Transaction
        fields = [
            "ledger",
            "account",
            "type",
            "status",
            "date_after",
            "date_before",
            "category",
            "amount_min",
            "amount_max",
            "search",
        ]

    def rollups(self, user, transaction_type: str | None = None) -> selectors.RollupSet | None:
        """The rollups that answer this (validated) filterset's filters, or None when one of
        them, a search or an amount, needs the transactions themselves."""
        given = {
            name: value
            for name, value in self.form.cleaned_data.items()
            if name in self.filters and value not in EMPTY_VALUES
        }
        if not given.keys() <= ROLLUP_FILTERS:
            return None
        others = {name: value for name, value in given.items() if name not in DATE_FILTERS}

        def narrow(rows: QuerySet) -> QuerySet:
            # The filters' own lookups: the rollups have the transactions' field names.
            for name, value in others.items():
                rows = self.filters[name].filter(rows, value)
            return rows

        return selectors.RollupSet(
            user,
            transaction_type,
            narrow if others else None,
            given.get("date_after"),
            given.get("date_before"),
        )

    def filter_amount_min(self, queryset: QuerySet, name: str, value: Decimal) -> QuerySet:
        return queryset.filter(Q(amount__gte=value) | Q(amount__lte=-value))

    def filter_amount_max(self, queryset: QuerySet, name: str, value: Decimal) -> QuerySet:
        return queryset.filter(amount__lte=value, amount__gte=-value)


class StableOrderingFilter(OrderingFilter):
    """`?ordering=` with the id as a last key, so pages never overlap or skip rows."""

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if ordering and not any(key.lstrip("-") == "id" for key in ordering):
            ordering.append("-id" if ordering[-1].startswith("-") else "id")
        return ordering


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, skipped when the request names none of the filters.

    Building and validating a FilterSet's form costs more than the list's own queries; without
    any of its parameters it would only return the queryset unchanged. With some, a
    TransactionFilter is asked for those alone (`given_only`). The validated filterset is left
    on the view as `filterset` (None without filters), for its other reads of the same set: a
    list's count from the rollups.
    """

    @staticmethod
    def filters_given(request, filterset_class) -> bool:
        """Whether the request gives a parameter of any of the filterset's filters."""
        return any(name in request.query_params for name in filterset_class.base_filters)

    def valid_filterset(self, request, queryset, view):
        """The request's filterset, validated (a 400 if it is not valid), or None when the
        request gives none of its filters."""
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not self.filters_given(request, filterset_class):
            return None
        kwargs = self.get_filterset_kwargs(request, queryset, view)
        if issubclass(filterset_class, FormCachingFilterSet):
            kwargs["given_only"] = True
        filterset = filterset_class(**kwargs)
        # What DjangoFilterBackend.filter_queryset does with the filterset it makes.
        if not filterset.is_valid() and self.raise_exception:
            raise utils.translate_validation(filterset.errors)
        return filterset

    def filter_queryset(self, request, queryset, view):
        view.filterset = self.valid_filterset(request, queryset, view)
        return queryset if view.filterset is None else view.filterset.qs


class ScheduleFilter(FormCachingFilterSet):
    ledger = _ledger_filter()
    account = django_filters.ModelChoiceFilter(queryset=_own_accounts, label="Account id")

    class Meta:
        model = Schedule
        fields = ["ledger", "account"]


class MonthFormField(forms.CharField):
    """A `YYYY-MM` month in a query string; its first day once cleaned."""

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        month = parse_month(text)
        if month is None:
            raise forms.ValidationError(MONTH_ERROR, code="invalid")
        return month


@extend_schema_field({"type": "string", "pattern": MONTH_PATTERN})
class MonthFilter(django_filters.Filter):
    field_class = MonthFormField


class BudgetFilter(FormCachingFilterSet):
    ledger = django_filters.ModelChoiceFilter(queryset=_own_ledgers, label="Ledger id")
    category = django_filters.ModelChoiceFilter(queryset=_own_categories, label="Category id")
    month = MonthFilter(label="Month, YYYY-MM")

    class Meta:
        model = Budget
        fields = ["ledger", "category", "month"]
