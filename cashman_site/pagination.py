from collections.abc import Callable
from functools import cached_property, partial
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.template import loader
from rest_framework import pagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from cashman_site import fastpaths, keyset


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
    A `values()` queryset's rows are read through a fast path (`cashman_site.fastpaths.list_rows`).
    """

    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:  # type: ignore[override]
        return settings.MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        counter = getattr(view, "count_rows", None)
        self.django_paginator_class = partial(CountingPaginator, counter=counter)
        return super().paginate_queryset(fastpaths.list_rows(queryset), request, view)

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["results"]
        response["properties"]["count"]["description"] = (
            "How many rows all the pages hold; absent from keyset (`cursor`) pages."
        )
        return response

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        if getattr(view, "keyset_pagination_class", None):
            parameters.append(
                {
                    "name": KeysetPagination.cursor_query_param,
                    "required": False,
                    "in": "query",
                    "description": "Keyset pages: empty for the first, then the cursor of a "
                    "`next` or `previous` link. Ignores `page`; gives no `count`.",
                    "schema": {"type": "string"},
                }
            )
        return parameters


class KeysetPagination(pagination.BasePagination):
    """Keyset pages (`cashman_site.keyset`) for a request with `?cursor=` (empty for the first
    page): `{next, previous, results}`, no count, each page read from just after the last row of
    the one before, however deep. `?page_size=` as for numbered pages. The queryset's ordering
    must end with its primary key. Views choose it per request with `KeysetPagesMixin`."""

    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    template = "rest_framework/pagination/previous_and_next.html"

    def get_page_size(self, request) -> int:
        return PageNumberPagination().get_page_size(request)

    def paginate_queryset(self, queryset, request, view=None) -> list:
        self.request = request
        self.page_size = self.get_page_size(request)
        self.ordering = keyset.ordering_of(queryset)
        raw = request.query_params[self.cursor_query_param]
        cursor = keyset.decode(raw, queryset.model, self.ordering) if raw else None
        rows = queryset
        if cursor is not None:
            rows = rows.filter(keyset.beyond(self.ordering, cursor))
            if cursor.backwards:
                rows = rows.order_by(*keyset.reversed_ordering(self.ordering))
        found = list(rows[: self.page_size + 1])
        page, more = found[: self.page_size], len(found) > self.page_size
        if cursor is not None and cursor.backwards:
            page.reverse()
        self.next_key, self.previous_key = self._link_keys(page, cursor, more)
        self.display_page_controls = bool(self.next_key or self.previous_key)
        return page

    def _link_keys(self, page: list, cursor: keyset.Cursor | None, more: bool) -> tuple:
        """The positions the next and previous links start from (None: no such link).

        `more`: rows lie beyond the page in the direction it was read. Going forwards, rows
        before the page exist when a cursor led to it; going backwards, rows after it do. An
        empty page (its rows deleted since the cursor was made) links from the cursor itself."""
        first = keyset.key_of(page[0], self.ordering) if page else None
        last = keyset.key_of(page[-1], self.ordering) if page else None
        if cursor is None:
            return (last if more else None), None
        if cursor.backwards:
            return last or cursor.values, (first if more else None)
        return (last if more else None), first or cursor.values

    def link(self, values, *, backwards: bool) -> str | None:
        if values is None:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), "page")
        cursor = keyset.encode(self.ordering, keyset.Cursor(values, backwards))
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_paginated_response(self, data):
        return Response(
            {
                "next": self.link(self.next_key, backwards=False),
                "previous": self.link(self.previous_key, backwards=True),
                "results": data,
            }
        )

    def to_html(self):
        context = {
            "next_url": self.link(self.next_key, backwards=False),
            "previous_url": self.link(self.previous_key, backwards=True),
        }
        return loader.get_template(self.template).render(context)


class KeysetPagesMixin:
    """For a list view: `keyset_pagination_class` pages a request with `?cursor=`, the view's
    `pagination_class` every other. The choice is made where DRF makes it, in `paginator`."""

    keyset_pagination_class: type[KeysetPagination] | None = KeysetPagination

    @property
    def paginator(self):
        if not hasattr(self, "_paginator"):
            request = getattr(self, "request", None)
            wants_keyset = (
                self.keyset_pagination_class is not None
                and request is not None
                and KeysetPagination.cursor_query_param in request.query_params
            )
            chosen = self.keyset_pagination_class if wants_keyset else self.pagination_class
            self._paginator = chosen() if chosen is not None else None
        return self._paginator
