"""A user who is not a member of a ledger walks every ledger endpoint and method and learns nothing
of its data: a row of a ledger they are not in answers exactly as a nonexistent id would (404 for a
URL, 400 for an id in a body or a filter), and nothing changes.

The outsider is tried twice: as a stranger, and as a housemate who shares another ledger with the
victim (membership of one ledger opens that ledger only)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from ledger import services
from ledger.choices import Role, TransactionType
from ledger.models import Account, Category, Ledger, Membership, Transaction, Transfer
from ledger.tests.factories import (
    AccountFactory,
    CategoryFactory,
    SharedLedgerFactory,
    TransactionFactory,
    add_member,
    main_account,
    personal_ledger,
)

pytestmark = pytest.mark.django_db

SECRET = "secret-description-of-the-first-user"
MISSING = 10**9


@pytest.fixture
def victims_data(user):
    """The victim's rows in their personal ledger and in a household they share with a third
    user, and a transfer between the two."""
    household = SharedLedgerFactory(owner=user, name="Secret household")
    add_member(household, UserFactory(), Role.EDITOR)
    savings = AccountFactory(ledger=household, name="Secret savings")
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
    shared_category = CategoryFactory(ledger=household, name="Secret category")
    shared = TransactionFactory(
        account=savings,
        created_by=user,
        description=SECRET,
        amount=Decimal("55.55"),
        category=shared_category,
    )
    transfer = services.transfer_create(
        actor=user,
        from_account=main_account(user),
        to_account=savings,
        amount=Decimal("44.44"),
        date=datetime.date(2026, 11, 2),
        description=SECRET,
    )
    return {
        "household": household,
        "personal": personal_ledger(user),
        "account": main_account(user),
        "savings": savings,
        "category": category,
        "shared_category": shared_category,
        "income": income,
        "expense": expense,
        "shared": shared,
        "transfer": transfer,
        "leg": transfer.legs.order_by("amount").first(),
    }


@pytest.fixture(params=["stranger", "housemate"])
def outsider(request, user, other_user, other_client):
    """The other user: a stranger, or a member of another ledger the victim is in too."""
    if request.param == "housemate":
        theirs = SharedLedgerFactory(owner=other_user, name="Their household")
        add_member(theirs, user, Role.EDITOR)
    return other_client


def test_a_housemate_sees_the_ledger_they_share_and_only_it(user, other_user, other_client):
    """The control: what the outsider does not see below is hidden by the rule, not missing."""
    shared = SharedLedgerFactory(owner=user, name="Shared household")
    add_member(shared, other_user, Role.VIEWER)
    TransactionFactory(account=main_account(user), description="private")
    visible = TransactionFactory(
        account=shared.accounts.get(), created_by=user, description="shared"
    )
    rows = other_client.get(reverse("api:transaction-list")).json()["results"]
    assert [row["id"] for row in rows] == [visible.pk]
    ledgers = other_client.get(reverse("api:ledger-list")).json()["results"]
    assert {row["name"] for row in ledgers} == {"Personal", "Shared household"}


def _snapshot():
    return (
        sorted(
            Transaction.objects.values_list(
                "id",
                "ledger",
                "account",
                "type",
                "description",
                "amount",
                "category",
                "status",
                "transfer",
                "version",
            )
        ),
        sorted(Category.objects.values_list("id", "ledger", "name", "version")),
        sorted(Account.objects.values_list("id", "ledger", "name", "archived", "version")),
        sorted(Ledger.objects.values_list("id", "name", "version")),
        sorted(Membership.objects.values_list("id", "ledger", "user", "role")),
        sorted(Transfer.objects.values_list("id", "version")),
    )


def _detail_urls(data):
    """Each detail URL of the victim's rows, with the same URL for an id that does not exist."""
    household, user_id = data["household"].pk, data["household"].memberships.first().user_id
    pairs = [
        ("api:transaction-detail", data["income"].pk),
        ("api:transaction-detail", data["expense"].pk),
        ("api:transaction-detail", data["shared"].pk),
        ("api:transaction-detail", data["leg"].pk),
        ("api:transaction-history", data["income"].pk),
        ("api:income-detail", data["income"].pk),
        ("api:expense-detail", data["expense"].pk),
        ("api:expense-detail", data["shared"].pk),
        ("api:category-detail", data["category"].pk),
        ("api:category-detail", data["shared_category"].pk),
        ("api:account-detail", data["account"].pk),
        ("api:account-detail", data["savings"].pk),
        ("api:transfer-detail", data["transfer"].pk),
        ("api:ledger-detail", household),
        ("api:ledger-detail", data["personal"].pk),
    ]
    urls = [(reverse(name, args=[pk]), reverse(name, args=[MISSING])) for name, pk in pairs]
    urls += [
        (
            reverse("api:ledger-member-detail", args=[household, user_id]),
            reverse("api:ledger-member-detail", args=[MISSING, user_id]),
        ),
        (
            reverse("api:ledger-member-list", args=[household]),
            reverse("api:ledger-member-list", args=[MISSING]),
        ),
        (
            reverse("api:ledger-invitation-list", args=[household]),
            reverse("api:ledger-invitation-list", args=[MISSING]),
        ),
    ]
    return urls


LIST_URLS = [
    reverse("api:transaction-list"),
    reverse("api:income-list"),
    reverse("api:expense-list"),
    reverse("api:category-list"),
    reverse("api:account-list"),
    reverse("api:transfer-list"),
    reverse("api:ledger-list"),
    reverse("api:summary-list"),
    reverse("api:summary-monthly"),
    reverse("api:summary-by-category"),
]
#: The lists whose rows are filtered by the transaction filters (category, account, ledger).
TRANSACTION_LIST_URLS = [
    reverse("api:transaction-list"),
    reverse("api:income-list"),
    reverse("api:expense-list"),
    reverse("api:summary-list"),
    reverse("api:summary-monthly"),
    reverse("api:summary-by-category"),
]


@pytest.mark.parametrize("url", LIST_URLS)
def test_lists_and_summaries_show_nothing_of_anothers_ledgers(outsider, victims_data, url):
    for accept in ("application/json", "text/html"):
        response = outsider.get(url, HTTP_ACCEPT=accept)
        assert response.status_code == 200
        content = response.content.decode()
        for secret in (SECRET, "777.77", "55.55", "44.44", "Secret category", "Secret "):
            assert secret not in content, (url, accept, secret)


def _same_answer(client, method, url, missing_url, body):
    theirs = getattr(client, method)(url, body)
    missing = getattr(client, method)(missing_url, body)
    assert theirs.status_code == missing.status_code, (method, url, theirs.status_code)
    if method != "head":
        assert SECRET not in theirs.content.decode()
        assert theirs.content == missing.content, (method, url)
    return theirs


def test_every_detail_method_on_anothers_object_is_a_404_like_a_missing_one(outsider, victims_data):
    before = _snapshot()
    body = {
        "description": "hijacked",
        "amount": "1",
        "type": "INCOME",
        "name": "hijacked",
        "role": "viewer",
    }
    for url, missing_url in _detail_urls(victims_data):
        for method in ("get", "put", "patch", "delete", "head"):
            response = _same_answer(outsider, method, url, missing_url, body)
            assert response.status_code in (404, 405), (method, url, response.status_code)
        assert outsider.get(url).status_code == 404, url
        # OPTIONS describes the endpoint; it must say the same as for an id that does not exist.
        assert outsider.options(url).json() == outsider.options(missing_url).json()
    assert _snapshot() == before


def test_the_actions_on_anothers_objects_are_404_like_missing_ones(outsider, victims_data):
    before = _snapshot()
    reconcile = {"statement_date": "2026-12-31", "statement_balance": "0.00"}
    for name, pk, body in [
        ("api:account-reconcile", victims_data["account"].pk, reconcile),
        ("api:account-reconcile", victims_data["savings"].pk, reconcile),
    ]:
        response = _same_answer(
            outsider, "post", reverse(name, args=[pk]), reverse(name, args=[MISSING]), body
        )
        assert response.status_code == 404
    assert _snapshot() == before


def test_404_for_anothers_object_is_the_same_as_for_a_missing_one(outsider, victims_data):
    for pk in (victims_data["income"].pk, victims_data["shared"].pk):
        theirs = outsider.get(reverse("api:transaction-detail", args=[pk]))
        missing = outsider.get(reverse("api:transaction-detail", args=[MISSING]))
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json() == missing.json()


def _same_400(client, url, theirs, missing):
    """A 400 naming the same fields as for an id that does not exist, and nothing of the row."""
    mine, nothing = client.post(url, theirs), client.post(url, missing)
    assert mine.status_code == nothing.status_code == 400, (url, mine.status_code)
    assert mine.json().keys() == nothing.json().keys()
    assert "Secret" not in mine.content.decode()
    assert SECRET not in mine.content.decode()
    return mine


def test_anothers_category_account_and_ledger_cannot_be_used_in_a_body(
    outsider, other_user, victims_data
):
    data = victims_data
    own = TransactionFactory(owner=other_user)
    before = _snapshot()
    expense = {"description": "x", "amount": 1, "type": "EXPENSE"}
    for field, pk in [
        ("category", data["category"].pk),
        ("category", data["shared_category"].pk),
        ("account", data["account"].pk),
        ("account", data["savings"].pk),
    ]:
        for url in (reverse("api:expense-list"), reverse("api:transaction-list")):
            response = _same_400(outsider, url, {**expense, field: pk}, {**expense, field: MISSING})
            assert field in response.json()
        # Nor moved into, or attached to, one's own transaction.
        own_url = reverse("api:transaction-detail", args=[own.pk])
        theirs = outsider.patch(own_url, {field: pk})
        missing = outsider.patch(own_url, {field: MISSING})
        assert theirs.status_code == missing.status_code == 400
        assert theirs.json().keys() == missing.json().keys() == {field}
    for url in (reverse("api:category-list"), reverse("api:account-list")):
        for pk in (data["household"].pk, data["personal"].pk):
            response = _same_400(
                outsider, url, {"name": "mine", "ledger": pk}, {"name": "mine", "ledger": MISSING}
            )
            assert "ledger" in response.json()
    mine = main_account(other_user).pk
    for field in ("from_account", "to_account"):
        for pk in (data["account"].pk, data["savings"].pk):
            body = {"from_account": mine, "to_account": mine, "amount": "1.00"}
            response = _same_400(
                outsider,
                reverse("api:transfer-list"),
                {**body, field: pk},
                {**body, field: MISSING},
            )
            assert field in response.json()
    assert _snapshot() == before


def test_anothers_category_account_and_ledger_cannot_be_filtered_on(outsider, victims_data):
    data = victims_data
    before = _snapshot()
    for param, pk in [
        ("category", data["category"].pk),
        ("category", data["shared_category"].pk),
        ("account", data["account"].pk),
        ("account", data["savings"].pk),
        ("ledger", data["household"].pk),
        ("ledger", data["personal"].pk),
    ]:
        for url in TRANSACTION_LIST_URLS:
            theirs = outsider.get(url, {param: pk})
            missing = outsider.get(url, {param: MISSING})
            assert theirs.status_code == missing.status_code == 400, (url, param)
            assert theirs.json().keys() == missing.json().keys() == {param}
    for url in (reverse("api:category-list"), reverse("api:account-list")):
        for pk in (data["household"].pk, data["personal"].pk):
            assert outsider.get(url, {"ledger": pk}).status_code == 400, url
    assert _snapshot() == before


def test_same_category_name_in_anothers_ledger_is_fine(outsider, victims_data):
    response = outsider.post(reverse("api:category-list"), {"name": "secret CATEGORY"})
    assert response.status_code == 201


def test_browsable_api_forms_offer_only_ones_own_categories_and_accounts(
    outsider, other_user, victims_data
):
    CategoryFactory(owner=other_user, name="Mine only")
    response = outsider.get(reverse("api:expense-list"), HTTP_ACCEPT="text/html")
    content = response.content.decode()
    assert "Mine only" in content
    assert "Secret category" not in content
    assert "Secret savings" not in content


@pytest.mark.parametrize(
    "url",
    [
        *LIST_URLS,
        reverse("api:transaction-detail", args=[1]),
        reverse("api:ledger-detail", args=[1]),
        reverse("api:ledger-member-list", args=[1]),
    ],
)
def test_anonymous_gets_401_json_everywhere(api_client, victims_data, url):
    response = api_client.get(url)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
