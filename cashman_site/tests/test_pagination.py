"""cashman_site.pagination: Django's paginator, with a count from elsewhere and whole-list pages."""

import pytest
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator

from accounts.models import User
from accounts.tests.factories import UserFactory
from cashman_site.pagination import CountingPaginator, ListPage

pytestmark = pytest.mark.django_db


def test_a_page_is_read_in_one_query_and_iterated_as_a_list(django_assert_num_queries):
    made = [UserFactory().pk for _ in range(5)]
    paginator = CountingPaginator(User.objects.order_by("pk"), 2, counter=lambda rows: 5)
    with django_assert_num_queries(1):  # the count comes from the counter; the rows at once
        page = paginator.page(2)
        assert isinstance(page, ListPage)
        assert [row.pk for row in page] == made[2:4]
        assert [row.pk for row in page] == made[2:4]  # again, from the same list
        assert page[0].pk == made[2] and len(page) == 2
    assert paginator.num_pages == 3


def test_without_a_counter_the_count_is_the_querysets():
    UserFactory.create_batch(3)
    paginator = CountingPaginator(User.objects.order_by("pk"), 2)
    assert paginator.count == 3
    assert len(list(paginator.page(2))) == 1


class TestShortFirstPageWithoutCount:
    """A first page shorter than the page size is the whole list: no COUNT is asked for."""

    @pytest.fixture
    def users(self):
        return [UserFactory().pk for _ in range(5)]

    def counted(self, per_page, **kwargs):
        calls = []

        def counter(rows):
            calls.append(rows)
            return rows.count()

        return CountingPaginator(
            User.objects.order_by("pk"), per_page, counter=counter, **kwargs
        ), calls

    def test_a_single_short_first_page_is_the_whole_list(self, users, django_assert_num_queries):
        paginator, calls = self.counted(10)
        with django_assert_num_queries(1):
            assert [row.pk for row in paginator.page(1)] == users
        assert paginator.count == 5 and calls == []

    def test_an_empty_list_has_an_empty_first_page(self, django_assert_num_queries):
        paginator, calls = self.counted(10)
        with django_assert_num_queries(1):
            assert list(paginator.page("1")) == []
        assert paginator.count == 0 and paginator.num_pages == 1 and calls == []

    def test_a_full_first_page_takes_the_count(self, users, django_assert_num_queries):
        paginator, calls = self.counted(2)
        with django_assert_num_queries(2):  # the page, then the count: more may follow
            page = paginator.page("1")
        assert [row.pk for row in page] == users[:2]
        assert len(calls) == 1 and paginator.count == 5 and page.has_next()

    def test_a_later_page_is_counted_first_as_django_does(self, users, django_assert_num_queries):
        paginator, calls = self.counted(2)
        with django_assert_num_queries(2):
            assert [row.pk for row in paginator.page(3)] == users[4:]
        assert len(calls) == 1

    def test_a_huge_page_number_is_refused_on_the_count_alone(
        self, users, django_assert_num_queries
    ):
        paginator, _ = self.counted(2)
        with django_assert_num_queries(1), pytest.raises(EmptyPage):
            paginator.page(10**40)  # no OFFSET past what the database can take

    def test_a_full_last_page_still_counts_to_know_it_is_the_last(self, users):
        paginator, calls = self.counted(5)
        page = paginator.page(1)
        assert len(page) == 5 and len(calls) == 1 and not page.has_next()

    def test_a_page_past_the_end_is_refused_as_django_refuses_it(self, users):
        paginator, calls = self.counted(2)
        with pytest.raises(EmptyPage) as refused:
            paginator.page(4)
        assert str(refused.value) == str(Paginator([], 2).error_messages["no_results"])
        assert len(calls) == 1  # the count decides, as in Django

    @pytest.mark.parametrize(
        "number, error, message",
        [
            ("x", PageNotAnInteger, "invalid_page"),
            (1.5, PageNotAnInteger, "invalid_page"),
            (0, EmptyPage, "min_page"),
            ("-1", EmptyPage, "min_page"),
        ],
    )
    def test_bad_page_numbers_are_refused_before_any_query(
        self, users, django_assert_num_queries, number, error, message
    ):
        paginator, _ = self.counted(2)
        with django_assert_num_queries(0), pytest.raises(error) as refused:
            paginator.page(number)
        assert str(refused.value) == str(paginator.error_messages[message])

    def test_a_count_already_asked_for_is_used(self, users, django_assert_num_queries):
        # DRF's ?page=last asks for num_pages before the page.
        paginator, calls = self.counted(2)
        with django_assert_num_queries(2):  # the count, then the last page's rows
            assert [row.pk for row in paginator.page(paginator.num_pages)] == users[4:]
        assert len(calls) == 1

    def test_without_an_empty_first_page_an_empty_list_is_refused(self):
        paginator, _ = self.counted(2, allow_empty_first_page=False)
        with pytest.raises(EmptyPage):
            paginator.page(1)

    @pytest.mark.parametrize("per_page", [1, 2, 3, 4, 5, 6])
    def test_every_page_matches_djangos_paginator(self, users, per_page):
        ours, _ = self.counted(per_page)
        django_paginator = Paginator(User.objects.order_by("pk"), per_page)
        for number in django_paginator.page_range:
            theirs = django_paginator.page(number)
            page = CountingPaginator(User.objects.order_by("pk"), per_page).page(number)
            assert [row.pk for row in page] == [row.pk for row in theirs]
            assert (page.has_next(), page.has_previous()) == (
                theirs.has_next(),
                theirs.has_previous(),
            )
            assert (page.start_index(), page.end_index()) == (
                theirs.start_index(),
                theirs.end_index(),
            )
        assert ours.page(1).paginator.num_pages == django_paginator.num_pages
