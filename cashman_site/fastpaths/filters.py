"""Fast paths on django-filter and Django's forms: a filterset that builds its form class once,
and a date field that reads ISO dates without `strptime`.

Written for the releases in `cashman_site.fastpaths.WRITTEN_FOR`; on others, or with
`CASHMAN_FAST_PATHS=false`, they are django-filter's FilterSet and Django's DateField. Their
tests: `ledger/tests/test_filters.py`.
"""

import copy
import datetime
import re
from typing import Any, ClassVar

import django_filters
from django import forms
from django_filters.filters import QuerySetRequestMixin

from cashman_site import process_state
from cashman_site.fastpaths import enabled

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class DateField(forms.DateField):
    """Django's date field, reading a plain `YYYY-MM-DD` with `date.fromisoformat` instead of
    `strptime`, which took most of the time of a date filter's validation. Both accept and refuse
    the same such strings (a day that does not exist is a ValueError either way); anything else,
    and every other input format, still goes through `strptime`."""

    def strptime(self, value: str, format: str) -> datetime.date:
        if format == "%Y-%m-%d" and _ISO_DATE.fullmatch(value) and enabled("django"):
            return datetime.date.fromisoformat(value)
        return super().strptime(value, format)


class DateFilter(django_filters.DateFilter):
    field_class = DateField


class FormCachingFilterSet(django_filters.FilterSet):
    """django-filter's FilterSet, building its form class once.

    django-filter builds a new form class for every request (a field per filter, then a class
    through Django's form metaclass), which cost more than the filtering itself. The form class
    depends only on the filters, except for the choices of a filter whose queryset depends on the
    request (a callable `queryset`): so the class is built once, with no such choices, and each
    form gets them for its request when it is made (`form`).

    With `given_only=True` (what a list asks for), the filterset holds only the filters whose
    parameters the request gives: a filter without its parameter filters nothing, yet its form
    field was copied, cleaned and given its queryset on every request. The answer and its errors
    are the same; the form class is built once for each set of given filters. The browsable API's
    filter form still shows them all.
    """

    _form_classes: ClassVar[dict[tuple[type, tuple[str, ...]], type]] = {}
    _widget_maps: ClassVar[dict[type, dict[str, forms.Widget]]] = {}

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, given_only=False):
        if given_only and data is not None and enabled("django-filter"):
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
        if cls not in FormCachingFilterSet._widget_maps:
            FormCachingFilterSet._widget_maps[cls] = {
                name: copy.deepcopy(f).field.widget
                for name, f in cls.base_filters.items()  # type: ignore[misc]
            }
        return FormCachingFilterSet._widget_maps[cls]

    def _per_request(self) -> dict[str, Any]:
        """The filters whose choices come from the request (a callable queryset)."""
        return {
            name: filter_
            for name, filter_ in self.filters.items()
            if isinstance(filter_, QuerySetRequestMixin) and callable(filter_.queryset)
        }

    def get_form_class(self):
        if not enabled("django-filter"):
            return super().get_form_class()
        key = (type(self), tuple(self.base_filters))
        if key not in FormCachingFilterSet._form_classes:
            filters = copy.deepcopy(self.base_filters)
            for filter_ in filters.values():
                if isinstance(filter_, QuerySetRequestMixin) and callable(filter_.queryset):
                    field = self._meta.model._meta.get_field(filter_.field_name)
                    model = field.related_model
                    filter_.queryset = model._default_manager.none()  # set per form, below
            fields = {name: filter_.field for name, filter_ in filters.items()}
            FormCachingFilterSet._form_classes[key] = type(
                f"{key[0].__name__}Form", (self._meta.form,), fields
            )
        return FormCachingFilterSet._form_classes[key]

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            if enabled("django-filter"):
                for name, filter_ in self._per_request().items():
                    if name in form.fields:
                        form.fields[name].queryset = filter_.get_queryset(self.request)
        return self._form


def _forget_filter_parts() -> None:
    FormCachingFilterSet._form_classes.clear()
    FormCachingFilterSet._widget_maps.clear()


process_state.register("filters: form classes and widgets", _forget_filter_parts)
