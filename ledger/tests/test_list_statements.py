"""The lists read through a fast path (cashman_site.fastpaths.list_rows), statements kept per
filters given and ordering: every page, count and row they answer must be what the queryset
itself answers (`CASHMAN_FAST_PATHS=false`), for each user and for an empty ledger."""

import datetime
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse

from ledger import services
from ledger.choices import Role, TransactionType
from ledger.tests.factories import (
    AccountFactory,
    CategoryFactory,
    SharedLedgerFactory,
    TransactionFactory,
    add_member,
    main_account,
)

pytestmark = pytest.mark.django_db

TRANSACTIONS = reverse("api:transaction-list")
EXPENSES = reverse("api:expense-list")
INCOMES = reverse("api:income-list")


def page_of(response) -> tuple[int, int | None, list | None]:
    body = response.json()
    return response.status_code, body.get("count"), body.get("results")


class TestListStatements:
    """Unfiltered and filtered lists must answer what the queryset does: `amount_min=0` keeps
    every row, and with `orm_only_answers` the queryset itself answers."""

    @pytest.fixture
    def mixed(self, user, other_user, make_tx):
        """The user's own rows, a household's (where they are a viewer) and transfers' legs, one
        of them leaving the household for a ledger the user is not in."""
        food = CategoryFactory(owner=user, name="Food")
        for i in range(9):  # 5 incomes and 4 expenses: two pages of 3 of each
            make_tx(
                type=TransactionType.INCOME if i % 2 == 0 else TransactionType.EXPENSE,
                amount=Decimal(f"{(i * 37) % 11 + 1}.{i}5"),
                description=f"Coffee {i}" if i % 4 else f"Rent {i}",
                date=datetime.date(2026, 1 + i % 3, 1),  # ties on the date: the id decides
                category=food if i % 3 else None,
            )
        TransactionFactory(owner=other_user, description="Coffee not yours")
        household = SharedLedgerFactory(owner=other_user)
        add_member(household, user, Role.VIEWER)
        joint = household.accounts.get()
        for i in range(2):
            TransactionFactory(
                account=joint,
                type=TransactionType.INCOME if i else TransactionType.EXPENSE,
                amount=Decimal(f"{i + 2}.50"),
                description=f"Coffee shared {i}",
                date=datetime.date(2026, 2, 1),
            )
        savings = AccountFactory(owner=user, name="Savings")
        services.transfer_create(
            actor=user,
            from_account=main_account(user),
            to_account=savings,
            amount=Decimal("4.25"),
            date=datetime.date(2026, 2, 1),
            description="Rent savings",
        )
        services.transfer_create(
            actor=other_user,
            from_account=joint,
            to_account=main_account(other_user),
            amount=Decimal("1.75"),
            date=datetime.date(2026, 3, 1),
            description="Coffee transfer",
        )
        self.ids = {"HOUSEHOLD": household.pk, "SAVINGS": savings.pk, "FOOD": food.pk}
        return food

    @pytest.mark.parametrize("url", [TRANSACTIONS, INCOMES, EXPENSES])
    @pytest.mark.parametrize(
        "ordering", [None, "amount", "-amount", "date,created_at", "-created_at", "bogus"]
    )
    @pytest.mark.parametrize("page", [1, 2, 9])
    def test_unfiltered_pages_are_the_querysets(
        self, auth_client, mixed, orm_only_answers, url, ordering, page
    ):
        params = {"page_size": 3, "page": page, **({"ordering": ordering} if ordering else {})}
        unfiltered = page_of(auth_client.get(url, params))
        filtered = page_of(auth_client.get(url, {**params, "amount_min": "0"}))
        orm = orm_only_answers(params, url=url)
        assert unfiltered == filtered == orm
        if page == 9:
            assert orm[0] == 404
        else:
            assert orm[0] == 200 and orm[1] > 0 and "not yours" not in str(orm[2])

    @pytest.mark.parametrize(
        "filters",
        [
            {"search": "coffee"},
            {"search": "COFFEE 3"},
            {"search": "100%_"},  # LIKE's wildcards, escaped
            {"date_after": "2026-02-01", "date_before": "2026-02-28"},
            {"date_after": "2026-02-01", "search": "rent", "ordering": "amount"},
            {"type": "INCOME", "amount_min": "3"},
            {"amount_max": "5.5", "ordering": "-created_at"},
            {"category": "none"},
            {"category": "FOOD"},  # filled in with the category's id below
            {"category": "FOOD", "search": "coffee", "page": 2},
            {"ledger": "HOUSEHOLD"},
            {"ledger": "HOUSEHOLD", "type": "TRANSFER"},
            {"account": "SAVINGS"},
            {"type": "TRANSFER", "ordering": "amount"},
            {"status": "pending", "search": "coffee", "page": 2},
            {"status": "cleared"},
        ],
    )
    def test_filtered_pages_are_the_querysets(self, auth_client, mixed, orm_only_answers, filters):
        params = {"page_size": 3, **filters}
        for name in ("category", "ledger", "account"):
            if params.get(name) in self.ids:
                params[name] = self.ids[params[name]]
        # Twice: the second request runs the statements the first one made.
        first, second = (page_of(auth_client.get(TRANSACTIONS, params)) for _ in range(2))
        assert first == second == orm_only_answers(params)
        assert "not yours" not in str(first)

    def test_the_same_filters_with_other_values(self, auth_client, mixed, orm_only_answers):
        for search in ["coffee", "rent", "coffee 5", "nothing like it"]:
            params = {"search": search, "date_after": "2026-01-01"}
            assert page_of(auth_client.get(TRANSACTIONS, params)) == orm_only_answers(params)

    def test_each_user_with_the_same_filters(
        self, auth_client, other_client, mixed, orm_only_answers
    ):
        params = {"search": "coffee"}
        mine = page_of(auth_client.get(TRANSACTIONS, params))
        theirs = page_of(other_client.get(TRANSACTIONS, params))
        # Mine: 6 own, 2 of the household, the transfer's leg in it. Theirs: 1 own, the same 2,
        # both legs of the transfer (into their own ledger).
        assert (mine[1], theirs[1]) == (9, 5)
        assert theirs == orm_only_answers(params, client=other_client)

    def test_an_empty_ledger(self, auth_client, other_user, make_tx):
        TransactionFactory(owner=other_user)
        assert auth_client.get(TRANSACTIONS).json() == {
            "count": 0,
            "next": None,
            "previous": None,
            "results": [],
        }

    @pytest.fixture
    def orm_only_answers(self, auth_client):
        def answer(params, client=auth_client, url=TRANSACTIONS):
            with override_settings(CASHMAN_FAST_PATHS=False):
                return page_of(client.get(url, params))

        return answer
