from collections.abc import Callable
from functools import cached_property, partial
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from rest_framework import pagination


class ListPage(Page):
    """Django's Page, iterated over its rows at once (DRF makes a list of the page): Page is a
    Sequence, whose iterator asks for the rows one index at a time."""

    def __iter__(self):
        if not isinstance(self.object_list, list):
            self.object_list = list(self.object_list)
        return iter(self.object_list)


def _is_one(number: Any) -> bool:
    """Whether Django's paginator would read `number` as page 1 (anything else it validates)."""
    if isinstance(number, float):
        return number == 1
    try:
        return int(number) == 1
    except (TypeError, ValueError):
        return False


class CountingPaginator(Paginator):
    """Django's paginator, taking its count from `counter` (e.g. a cached count) when given, and
    giving `ListPage`s.

    The first page is read before the count: when it has fewer rows than the page size it is
    the whole list, so the total is its length and no count is asked for. Most filtered lists (a
    search, a month) fit on one page; their COUNT scanned the same rows as the page. A full first
    page is then counted as Django's paginator counts it. Other pages go through Django's
    paginator unchanged: the count first, so a page number past the end is refused before any
    row is read, whatever its size.
    """

    def __init__(self, *args: Any, counter: Callable[[Any], int] | None = None, **kwargs: Any):
        self.counter = counter
        super().__init__(*args, **kwargs)

    @cached_property
    def count(self) -> int:
        return self.counter(self.object_list) if self.counter else super().count

    def page(self, number: Any) -> Page:
        if self.orphans or "count" in self.__dict__ or not _is_one(number):
            return super().page(number)
        rows = self.object_list[: self.per_page]
        if len(rows) < self.per_page and (rows or self.allow_empty_first_page):
            self.count = len(rows)  # the whole list: no count to ask for
        else:
            self.validate_number(1)  # the count
        return self._get_page(rows, 1, self)

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
