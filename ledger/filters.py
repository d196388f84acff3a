"""Filters shared by every transaction list and every summary."""

import copy
import datetime
import re
from decimal import Decimal
from typing import ClassVar

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django_filters import utils
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.filters import OrderingFilter

from cashman_site import process_state
from ledger import selectors
from ledger.choices import TransactionType
from ledger.models import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS, Category, Transaction


def _own_categories(request) -> QuerySet[Category]:
    if request is None or not request.user.is_authenticated:
        return Category.objects.none()
    return selectors.categories_for(user=request.user)


class AmountFilter(django_filters.NumberFilter):
    field_class = django_filters.fields.forms.DecimalField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", AMOUNT_MAX_DIGITS)
        kwargs.setdefault("decimal_places", AMOUNT_DECIMAL_PLACES)
        kwargs.setdefault("min_value", Decimal("0"))
        super().__init__(*args, **kwargs)


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class DateField(forms.DateField):
    """Django's date field, reading a plain `YYYY-MM-DD` with `date.fromisoformat` instead of
    `strptime`, which took most of the time of a date filter's validation. Both accept and refuse
    the same such strings (a day that does not exist is a ValueError either way); anything else,
    and every other input format, still goes through `strptime`."""

    def strptime(self, value: str, format: str) -> datetime.date:
        if format == "%Y-%m-%d" and _ISO_DATE.fullmatch(value):
            return datetime.date.fromisoformat(value)
        return super().strptime(value, format)


class DateFilter(django_filters.DateFilter):
    field_class = DateField


class TransactionFilter(django_filters.FilterSet):
    """The list's and the summaries' filters.

    django-filter builds a new form class for every request (a field per filter, then a class
    through Django's form metaclass), which cost more than the filtering itself. The form class
    depends only on the filters, except for the category field's choices, which are the
    requesting user's own categories: so the class is built once, with no category at all to
    choose from, and each form gets the user's categories when it is made (`form`).

    Filtering a list (`given_only=True`, what `FilterBackend` asks for), the filterset holds only
    the filters whose parameters the request gives: a filter without its parameter filters
    nothing, yet its form field was copied, cleaned and, for the category, given a queryset of
    the user's categories on every request. The answer and its errors are the same; the form
    class is built once for each set of given filters. The browsable API's filter form still
    shows them all.
    """

    _form_classes: ClassVar[dict[tuple[type, tuple[str, ...]], type]] = {}
    _widget_maps: ClassVar[dict[type, dict[str, forms.Widget]]] = {}

    type = django_filters.ChoiceFilter(choices=TransactionType.choices)
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
            "type",
            "date_after",
            "date_before",
            "category",
            "amount_min",
            "amount_max",
            "search",
        ]

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, given_only=False):
        if given_only and data is not None:
            widgets = type(self)._widgets()
            # An instance attribute, read by django-filter's __init__ in place of the class's.
            self.base_filters = {
                name: filter_
                for name, filter_ in type(self).base_filters.items()
                if not widgets[name].value_omitted_from_data(
                    data, {}, f"{prefix}-{name}" if prefix else name
                )
            }
        super().__init__(data, queryset, request=request, prefix=prefix)

    @classmethod
    def _widgets(cls) -> dict[str, forms.Widget]:
        """Each filter's form widget, made once per class from copies of the filters: asking a
        class-level filter for its `field` would build the field on it, and django-filter's
        deep copy of the filters at every request would then copy the field and its widget too."""
        if cls not in TransactionFilter._widget_maps:
            TransactionFilter._widget_maps[cls] = {
                name: copy.deepcopy(f).field.widget for name, f in cls.base_filters.items()
            }
        return TransactionFilter._widget_maps[cls]

    def get_form_class(self):
        key = (type(self), tuple(self.base_filters))
        if key not in TransactionFilter._form_classes:
            filters = copy.deepcopy(self.base_filters)
            if "category" in filters:
                filters["category"].queryset = Category.objects.none()  # set per form, below
            fields = {name: filter_.field for name, filter_ in filters.items()}
            TransactionFilter._form_classes[key] = type(
                f"{key[0].__name__}Form", (self._meta.form,), fields
            )
        return TransactionFilter._form_classes[key]

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            if "category" in form.fields:
                form.fields["category"].queryset = _own_categories(self.request)
        return self._form

    def filter_amount_min(self, queryset: QuerySet, name: str, value: Decimal) -> QuerySet:
        return queryset.filter(Q(amount__gte=value) | Q(amount__lte=-value))

    def filter_amount_max(self, queryset: QuerySet, name: str, value: Decimal) -> QuerySet:
        return queryset.filter(amount__lte=value, amount__gte=-value)


def _forget_filter_parts() -> None:
    TransactionFilter._form_classes.clear()
    TransactionFilter._widget_maps.clear()


process_state.register("ledger: filter forms and widgets", _forget_filter_parts)


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
    TransactionFilter is asked for those alone (`given_only`).
    """

    @staticmethod
    def filters_given(request, filterset_class) -> bool:
        """Whether the request gives a parameter of any of the filterset's filters."""
        return any(name in request.query_params for name in filterset_class.base_filters)

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not self.filters_given(request, filterset_class):
            return queryset
        kwargs = self.get_filterset_kwargs(request, queryset, view)
        if issubclass(filterset_class, TransactionFilter):
            kwargs["given_only"] = True
        filterset = filterset_class(**kwargs)
        # What DjangoFilterBackend.filter_queryset does with the filterset it makes.
        if not filterset.is_valid() and self.raise_exception:
            raise utils.translate_validation(filterset.errors)
        return filterset.qs
