"""cashman_site.pagination: Django's paginator, with a count from elsewhere and whole-list pages."""

import pytest

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
