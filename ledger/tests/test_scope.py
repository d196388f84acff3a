"""Who may see and change what is decided in ledger/scope.py alone: a user sees the rows of the
ledgers they are a member of, owners and editors change them, viewers only read them, and a row
of any other ledger is as if it did not exist. No other module narrows rows by their owner, their
creator or the user's memberships itself, so that the rule changes in one place.

A change of membership is seen from the member's very next request: it raises their generation in
the same database transaction, and the roles are read again under the new one."""

import ast
import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from ledger import scope, services
from ledger.choices import Role
from ledger.models import (
    Account,
    Category,
    ImportJob,
    Invitation,
    Ledger,
    Membership,
    Transaction,
    Transfer,
)
from ledger.tests.factories import (
    AccountFactory,
    CategoryFactory,
    SharedLedgerFactory,
    TransactionFactory,
    add_member,
    main_account,
    personal_ledger,
)

LEDGER = Path(__file__).resolve().parents[1]
LOOKUPS = {"filter", "exclude", "get", "get_or_create", "update_or_create"}

#: Narrowing rows by who owns or made them is the old rule (or a way round the new one).
OWNER_KEYWORDS = ("owner", "created_by")
#: Only these modules read who is in a ledger: the scope for every read and write, and the
#: households' own modules, which manage the memberships.
MEMBERSHIP_MODULES = {"scope.py", "services/households.py", "selectors/households.py"}


def _keyword_names(node: ast.Call) -> list[str]:
    return [keyword.arg for keyword in node.keywords if keyword.arg]


def _lookups(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in LOOKUPS
        ):
            yield node


def _is(name: str, field: str) -> bool:
    return name in (field, f"{field}_id") or name.startswith(f"{field}__")


def owner_lookups(path: Path) -> list[int]:
    """Lines where a query is narrowed by `owner`/`created_by` (`=`, `_id=`, `__...=`)."""
    return [
        node.lineno
        for node in _lookups(path)
        if any(_is(name, field) for name in _keyword_names(node) for field in OWNER_KEYWORDS)
    ]


def _queries_memberships(node: ast.Call) -> bool:
    names = _keyword_names(node)
    across = any("memberships__" in name or name.startswith("membership__") for name in names)
    receiver = node.func.value  # type: ignore[attr-defined]
    on_memberships = (
        isinstance(receiver, ast.Attribute)
        and receiver.attr == "objects"
        and isinstance(receiver.value, ast.Name)
        and receiver.value.id == "Membership"
        and any(_is(name, "user") for name in names)
    )
    return across or on_memberships


def membership_lookups(path: Path) -> list[int]:
    """Lines where a query reads a user's memberships to narrow rows:
    `ledger__memberships__user=`, `Membership.objects.filter(user=)`."""
    return [node.lineno for node in _lookups(path) if _queries_memberships(node)]


MODULES = sorted(
    path.relative_to(LEDGER).as_posix()
    for path in LEDGER.rglob("*.py")
    if "tests" not in path.parts and "migrations" not in path.parts and path.name != "scope.py"
)


@pytest.mark.parametrize("module", MODULES)
def test_no_module_but_scope_filters_by_owner(module):
    assert owner_lookups(LEDGER / module) == []


@pytest.mark.parametrize("module", sorted(set(MODULES) - MEMBERSHIP_MODULES))
def test_no_module_but_scope_reads_memberships(module):
    assert membership_lookups(LEDGER / module) == []


def test_the_checks_find_an_owner_or_membership_filter(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "Transaction.objects.filter(owner=user, id=1)\n"
        "rows.exclude(owner__email='x')\n"
        "rows.filter(created_by=user)\n"
        "rows.get(created_by_id=1)\n"
        "rows.filter(ledger__memberships__user=user)\n"
        "Membership.objects.filter(user=user)\n"
        "rows.filter(ledger=ledger, account=account)\n"
        "Membership.objects.filter(ledger=ledger, role='owner')\n"
    )
    assert owner_lookups(sample) == [1, 2, 3, 4]
    assert membership_lookups(sample) == [5, 6]


# The rule itself, on every kind of row it scopes.


@pytest.fixture
def household(db):
    """A shared ledger with one row of every kind, and a row of every kind elsewhere."""
    owner = UserFactory()
    ledger = SharedLedgerFactory(owner=owner, name="Household")
    account = ledger.accounts.get()
    category = CategoryFactory(ledger=ledger)
    transaction = TransactionFactory(account=account, created_by=owner, category=category)
    second = AccountFactory(ledger=ledger)
    transfer = services.transfer_create(
        actor=owner, from_account=account, to_account=second, amount=Decimal("5")
    )
    Invitation.objects.create(ledger=ledger, email="guest@example.com", role=Role.VIEWER)
    ImportJob.objects.create(
        owner=owner, account=account, file="imports/x.csv", filename="x.csv", format="csv"
    )
    # The same elsewhere: the owner's personal ledger, which no one else is in.
    TransactionFactory(owner=owner)
    CategoryFactory(owner=owner)
    return {
        "owner": owner,
        "ledger": ledger,
        "transaction": transaction,
        "transfer": transfer,
    }


def _querysets():
    return {
        "ledger": Ledger.objects.all(),
        "membership": Membership.objects.all(),
        "invitation": Invitation.objects.all(),
        "account": Account.objects.all(),
        "category": Category.objects.all(),
        "transaction": Transaction.objects.all(),
        "history": Transaction.history.all(),
        "import job": ImportJob.objects.all(),
        "transfer": Transfer.objects.all(),
    }


def _of_household(name, rows, ledger):
    """Which of `rows` (ids) are the household's."""
    if name == "ledger":
        in_it = Ledger.objects.filter(pk=ledger.pk)
    elif name == "import job":
        in_it = ImportJob.objects.filter(account__ledger=ledger)
    elif name == "transfer":
        in_it = Transfer.objects.filter(legs__ledger=ledger).distinct()
    elif name == "history":
        in_it = Transaction.history.filter(ledger=ledger)
    else:
        in_it = _querysets()[name].filter(ledger=ledger)
    return set(in_it.values_list("pk", flat=True)) & set(rows)


def _own_rows(name, user):
    """The rows of `name` in the user's personal ledger alone."""
    mine = personal_ledger(user)
    if name == "ledger":
        return {mine.pk}
    if name == "import job":
        return set(ImportJob.objects.filter(account__ledger=mine).values_list("pk", flat=True))
    if name == "transfer":
        return set()
    return set(_querysets()[name].filter(ledger=mine).values_list("pk", flat=True))


def _ids(queryset):
    return set(queryset.values_list("pk", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.OWNER, Role.EDITOR, Role.VIEWER, None])
def test_visible_and_writable_follow_the_role(household, role):
    ledger = household["ledger"]
    user = household["owner"] if role == Role.OWNER else UserFactory()
    if role in (Role.EDITOR, Role.VIEWER):
        add_member(ledger, user, role)
    user = User.objects.get(pk=user.pk)  # as a request loads it
    assert scope.role(user, ledger.pk) == role
    assert scope.may_write(user, ledger.pk) is (role in (Role.OWNER, Role.EDITOR))
    for name, rows in _querysets().items():
        everything = _ids(rows)
        household_rows = _of_household(name, everything, ledger)
        assert household_rows, name  # each kind has a row in the household
        own = _own_rows(name, user)
        seen, changeable = _ids(scope.visible(rows, user)), _ids(scope.writable(rows, user))
        expected_seen = (household_rows if role else set()) | own
        assert seen == expected_seen, name
        expected_writable = (household_rows if role != Role.VIEWER and role else set()) | own
        assert changeable == expected_writable, name
        # The fast paths' form: the user's id, the ledgers a subquery.
        assert _ids(scope.visible(rows, user.pk)) == seen, name
        assert _ids(scope.writable(rows, user.pk)) == changeable, name


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.OWNER, Role.EDITOR, Role.VIEWER, None])
def test_require_write_and_require_owner_follow_the_role(household, role):
    ledger = household["ledger"]
    user = household["owner"] if role == Role.OWNER else UserFactory()
    if role in (Role.EDITOR, Role.VIEWER):
        add_member(ledger, user, role)
    user = User.objects.get(pk=user.pk)
    if role in (Role.OWNER, Role.EDITOR):
        scope.require_write(user, ledger.pk)
    else:
        with pytest.raises(PermissionDenied):
            scope.require_write(user, ledger.pk)
    if role == Role.OWNER:
        scope.require_owner(user, ledger.pk)
    else:
        with pytest.raises(PermissionDenied):
            scope.require_owner(user, ledger.pk)
    # Their own ledger is theirs whatever their role here; a write naming both needs both.
    scope.require_owner(user, personal_ledger(user).pk)
    if role not in (Role.OWNER, Role.EDITOR):
        with pytest.raises(PermissionDenied):
            scope.require_write(user, personal_ledger(user).pk, ledger.pk)


@pytest.mark.django_db
def test_roles_are_every_ledger_of_the_user_and_nothing_else(household):
    user = UserFactory()
    add_member(household["ledger"], user, Role.VIEWER)
    other = SharedLedgerFactory(owner=user)
    SharedLedgerFactory()  # someone else's
    user = User.objects.get(pk=user.pk)
    assert scope.roles(user) == {
        personal_ledger(user).pk: Role.OWNER,
        household["ledger"].pk: Role.VIEWER,
        other.pk: Role.OWNER,
    }
    assert scope.role(user, None) is None
    assert scope.role(user, 10**9) is None


@pytest.mark.django_db
def test_a_transfer_is_seen_and_changed_only_with_both_of_its_ledgers(household):
    """A transfer between two ledgers is read and written whole: a member of one only neither
    sees it nor changes it (its leg in their ledger they see, as a transaction)."""
    owner, ledger = household["owner"], household["ledger"]
    across = services.transfer_create(
        actor=owner,
        from_account=ledger.accounts.order_by("id").first(),
        to_account=main_account(owner),
        amount=Decimal("7"),
        date=datetime.date(2026, 11, 3),
    )
    editor, viewer = UserFactory(), UserFactory()
    add_member(ledger, editor, Role.EDITOR)
    add_member(ledger, viewer, Role.VIEWER)
    owner, editor, viewer = (User.objects.get(pk=u.pk) for u in (owner, editor, viewer))
    transfers = Transfer.objects.filter(pk=across.pk)
    assert (
        _ids(scope.visible(transfers, owner))
        == _ids(scope.writable(transfers, owner))
        == {across.pk}
    )
    for member in (editor, viewer):
        assert _ids(scope.visible(transfers, member)) == set()
        assert _ids(scope.writable(transfers, member)) == set()
        legs = scope.visible(Transaction.objects.filter(transfer=across), member)
        assert [leg.ledger_id for leg in legs] == [ledger.pk]
    # Both ledgers seen, one of them only read: seen, not changed.
    add_member(personal_ledger(owner), viewer, Role.VIEWER)
    viewer = User.objects.get(pk=viewer.pk)
    add_member(personal_ledger(owner), editor, Role.EDITOR)
    editor = User.objects.get(pk=editor.pk)
    assert _ids(scope.visible(transfers, viewer)) == {across.pk}
    assert _ids(scope.writable(transfers, viewer)) == set()
    assert _ids(scope.writable(transfers, editor)) == {across.pk}


@pytest.mark.django_db
def test_a_transfer_without_legs_is_no_ones(household):
    """A transfer is seen through its legs: one left without any is seen by no one (not by
    everyone, as "no leg outside the user's ledgers" alone would have it)."""
    with services.unit_of_work():
        bare = Transfer.objects.create(created_by=household["owner"])
    for user in (household["owner"], UserFactory()):
        user = User.objects.get(pk=user.pk)
        rows = Transfer.objects.filter(pk=bare.pk)
        assert _ids(scope.visible(rows, user)) == _ids(scope.writable(rows, user)) == set()
        assert _ids(scope.visible(rows, user.pk)) == set()


@pytest.mark.django_db
@pytest.mark.parametrize("cache_seconds", [0, 300], ids=["no-cache", "ledger-cache"])
def test_the_roles_are_read_once_per_user_object(
    household, settings, django_assert_num_queries, cache_seconds
):
    """Once per user object (a request's); with the ledger cache on, once per generation."""
    settings.CASHMAN_LEDGER_CACHE_SECONDS = cache_seconds
    user = User.objects.get(pk=household["owner"].pk)
    with django_assert_num_queries(1):
        scope.roles(user)
        scope.role(user, household["ledger"].pk)
        list(scope.visible(Transaction.objects.none(), user))
        scope.require_write(user, household["ledger"].pk)
    scope.forget(user)
    with django_assert_num_queries(1 if not cache_seconds else 0):
        assert scope.role(user, household["ledger"].pk) == Role.OWNER
    # The next request's user object, at the same generation.
    with django_assert_num_queries(2 if not cache_seconds else 1):
        assert scope.role(User.objects.get(pk=user.pk), household["ledger"].pk) == Role.OWNER


def _generation(user) -> int:
    return User.objects.values_list("ledger_generation", flat=True).get(pk=user.pk)


@pytest.mark.django_db
def test_a_membership_change_raises_the_generation_and_the_user_object_follows(household):
    user = UserFactory()
    ledger = household["ledger"]
    before = _generation(user)
    membership = add_member(ledger, user, Role.VIEWER)
    assert _generation(user) > before
    loaded = User.objects.get(pk=user.pk)
    assert scope.role(loaded, ledger.pk) == Role.VIEWER

    before = _generation(user)
    services.member_update(membership=membership, actor=household["owner"], role=Role.EDITOR)
    assert _generation(user) > before
    # A user object loaded before the change keeps what it read (one request's view)...
    assert scope.role(loaded, ledger.pk) == Role.VIEWER
    # ...and the next request, which loads the user again, reads the new role.
    assert scope.role(User.objects.get(pk=user.pk), ledger.pk) == Role.EDITOR

    before = _generation(user)
    membership.role = Role.EDITOR
    services.member_remove(membership=membership, actor=household["owner"])
    assert _generation(user) > before
    assert scope.role(User.objects.get(pk=user.pk), ledger.pk) is None


@pytest.mark.django_db
@pytest.mark.parametrize("cache_on", [False, True], ids=["no-cache", "ledger-cache"])
def test_a_membership_change_is_seen_on_the_users_next_request(
    household, api_client, settings, cache_on
):
    """Promoted, a viewer may write from their next request; removed, they see nothing of the
    ledger from their next request (with the cached answers on too)."""
    from conftest import bearer

    if cache_on:
        settings.CASHMAN_LEDGER_CACHE_SECONDS = 300
    owner, ledger, tx = household["owner"], household["ledger"], household["transaction"]
    user = UserFactory()
    add_member(ledger, user, Role.VIEWER)
    member = api_client
    member.credentials(HTTP_AUTHORIZATION=bearer(user))
    manager = type(api_client)()
    manager.credentials(HTTP_AUTHORIZATION=bearer(owner))
    tx_url = reverse("api:transaction-detail", args=[tx.pk])
    member_url = reverse("api:ledger-member-detail", args=[ledger.pk, user.pk])
    transactions = reverse("api:transaction-list")

    def listed():
        return {row["id"] for row in member.get(transactions).json()["results"]}

    def summary_count():
        return member.get(reverse("api:summary-list")).json()["count"]

    assert tx.pk in listed()
    seen = summary_count()
    assert member.patch(tx_url, {"description": "by the viewer"}).status_code == 403

    before = _generation(user)
    assert manager.patch(member_url, {"role": Role.EDITOR}).status_code == 200
    assert _generation(user) > before
    assert member.patch(tx_url, {"description": "by the editor"}).status_code == 200

    before = _generation(user)
    assert manager.delete(member_url).status_code == 204
    assert _generation(user) > before
    assert member.get(tx_url).status_code == 404
    assert tx.pk not in listed()
    assert summary_count() < seen
    assert member.get(reverse("api:ledger-detail", args=[ledger.pk])).status_code == 404

    before = _generation(user)
    add_member(ledger, user, Role.VIEWER)
    assert _generation(user) > before
    assert member.get(tx_url).status_code == 200
    assert tx.pk in listed()
    assert summary_count() == seen
