from collections.abc import Callable
from functools import cached_property, partial
from typing import Any

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from rest_framework import pagination


class ListPage(Page):
    """Django's Page, iterated over its rows at once (DRF makes a list of the page): Page is a
    Sequence, whose iterator asks for the rows one index at a time."""

    def __iter__(self):
        if not isinstance(self.object_list, list):
            self.object_list = list(self.object_list)
        return iter(self.object_list)


class CountingPaginator(Paginator):
    """Django's paginator, taking its count from `counter` (e.g. a cached count) when given, and
    giving `ListPage`s.

    It reads the page's rows before the count: a page with fewer rows than the page size is the
    last one, so the total is the rows before it plus its own, and no count is asked for. Most
    filtered lists (a search, a month) fit on one page; their COUNT scanned the same rows as the
    page. A full page, or an empty page after the first, takes the count as Django's paginator
    does (an empty one is then refused as Django refuses it). The page is the same either way.
    """

    def __init__(self, *args: Any, counter: Callable[[Any], int] | None = None, **kwargs: Any):
        self.counter = counter
        super().__init__(*args, **kwargs)

    @cached_property
    def count(self) -> int:
        return self.counter(self.object_list) if self.counter else super().count

    def page(self, number: Any) -> Page:
        if self.orphans or "count" in self.__dict__:
            return super().page(number)
        number = self._page_number(number)
        bottom = (number - 1) * self.per_page
        rows = self.object_list[bottom : bottom + self.per_page]
        if len(rows) < self.per_page and (rows or (number == 1 and self.allow_empty_first_page)):
            self.count = bottom + len(rows)  # the last page: no count to ask for
        else:
            number = self.validate_number(number)  # the count; an empty page is refused
        return self._get_page(rows, number, self)

    def _page_number(self, number: Any) -> int:
        """`validate_number` without the check against the count: a whole number from 1."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def _get_page(self, *args: Any, **kwargs: Any) -> ListPage:
        # Django's documented hook for another Page class.
        return ListPage(*args, **kwargs)


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` and `?page_size=`; the size is capped by CASHMAN_MAX_PAGE_SIZE.

    A view with a `count_rows(queryset)` method supplies the total itself (the ledger caches it).
    """

    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:  # type: ignore[override]
        return settings.MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        counter = getattr(view, "count_rows", None)
        self.django_paginator_class = partial(CountingPaginator, counter=counter)
        return super().paginate_queryset(queryset, request, view)
