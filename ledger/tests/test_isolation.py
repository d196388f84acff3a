"""A second user walks every ledger endpoint and method and learns nothing of the first's data."""

from decimal import Decimal

import pytest
from django.urls import reverse

from ledger.choices import TransactionType
from ledger.models import Category, Transaction
from ledger.tests.factories import CategoryFactory, TransactionFactory

pytestmark = pytest.mark.django_db

SECRET = "secret-description-of-the-first-user"


@pytest.fixture
def victims_data(user):
    category = CategoryFactory(owner=user, name="Secret category")
    income = TransactionFactory(
        owner=user,
        type=TransactionType.INCOME,
        description=SECRET,
        amount=Decimal("777.77"),
        category=category,
    )
    expense = TransactionFactory(
        owner=user,
        type=TransactionType.EXPENSE,
        description=SECRET,
        amount=Decimal("66.66"),
        category=category,
    )
    return {"category": category, "income": income, "expense": expense}


def _snapshot():
    return (
        sorted(
            Transaction.objects.values_list(
                "id", "owner", "type", "description", "amount", "category"
            )
        ),
        sorted(Category.objects.values_list("id", "owner", "name")),
    )


def _detail_urls(data):
    return [
        reverse("api:transaction-detail", args=[data["income"].pk]),
        reverse("api:transaction-detail", args=[data["expense"].pk]),
        reverse("api:income-detail", args=[data["income"].pk]),
        reverse("api:expense-detail", args=[data["expense"].pk]),
        reverse("api:category-detail", args=[data["category"].pk]),
    ]


LIST_URLS = [
    reverse("api:transaction-list"),
    reverse("api:income-list"),
    reverse("api:expense-list"),
    reverse("api:category-list"),
    reverse("api:summary-list"),
    reverse("api:summary-monthly"),
    reverse("api:summary-by-category"),
]


@pytest.mark.parametrize("url", LIST_URLS)
def test_lists_and_summaries_show_nothing_of_the_other_user(other_client, victims_data, url):
    for accept in ("application/json", "text/html"):
        response = other_client.get(url, HTTP_ACCEPT=accept)
        assert response.status_code == 200
        content = response.content.decode()
        assert SECRET not in content
        assert "777.77" not in content
        assert "Secret category" not in content


def test_every_detail_method_on_anothers_object_is_404(other_client, victims_data):
    before = _snapshot()
    body = {"description": "hijacked", "amount": "1", "type": "INCOME", "name": "hijacked"}
    for url in _detail_urls(victims_data):
        for method in ("get", "put", "patch", "delete", "head"):
            response = getattr(other_client, method)(url, body)
            assert response.status_code == 404, (method, url, response.status_code)
            if method != "head":
                assert SECRET not in response.content.decode()
        # OPTIONS describes the endpoint; it must say the same as for an id that does not exist.
        missing_url = url.replace(f"/{url.rstrip('/').rsplit('/', 1)[1]}/", f"/{10**9}/")
        assert other_client.options(url).json() == other_client.options(missing_url).json()
    assert _snapshot() == before


def test_404_for_anothers_object_is_the_same_as_for_a_missing_one(other_client, victims_data):
    theirs = other_client.get(reverse("api:transaction-detail", args=[victims_data["income"].pk]))
    missing = other_client.get(reverse("api:transaction-detail", args=[10**9]))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()


def test_anothers_category_cannot_be_attached_filtered_or_probed(other_client, victims_data):
    category_id = victims_data["category"].pk
    before = _snapshot()
    create = other_client.post(
        reverse("api:expense-list"), {"description": "x", "amount": 1, "category": category_id}
    )
    assert create.status_code == 400
    for url in LIST_URLS:
        if url == reverse("api:category-list"):
            continue
        response = other_client.get(url, {"category": category_id})
        assert response.status_code == 400, url
    assert _snapshot() == before


def test_same_category_name_for_two_users_is_fine(other_client, victims_data):
    response = other_client.post(reverse("api:category-list"), {"name": "secret CATEGORY"})
    assert response.status_code == 201


def test_browsable_api_forms_offer_only_ones_own_categories(other_client, other_user, victims_data):
    CategoryFactory(owner=other_user, name="Mine only")
    response = other_client.get(reverse("api:expense-list"), HTTP_ACCEPT="text/html")
    content = response.content.decode()
    assert "Mine only" in content
    assert "Secret category" not in content


@pytest.mark.parametrize("url", [*LIST_URLS, reverse("api:transaction-detail", args=[1])])
def test_anonymous_gets_401_json_everywhere(api_client, victims_data, url):
    response = api_client.get(url)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
