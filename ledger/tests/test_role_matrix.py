"""Who may do what in a shared ledger, endpoint by endpoint (issue 22): the role matrix.

One ledger, "Shared household", is owned by a third user (the founder) and holds three accounts,
a category, an expense (cleared), an income, a transfer between two of its accounts, a pending
invitation and an import job; a fourth user (the bystander) is a viewer in it. The acting user
gets each role in turn (owner, editor, viewer) or none (outsider), and every case of `CASES`
is asserted for each:

- an outsider gets a 404 for a detail URL, exactly the answer for an id that does not exist
  (`MISSING`), and a 400 for an id of the ledger named in a body or a filter, exactly the answer
  for a missing id; their lists and summaries never show the ledger's rows;
- a viewer reads (200) and every write is a 403;
- an editor writes (2xx) except the ledger's name, its deletion, its members and invitations (403);
- an owner does everything.

After every refused write (4xx), the database is exactly as before (`snapshot`); after every
accepted one it changed, as the case's `effect` says where it names one.
"""

import dataclasses
import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from conftest import bearer
from ledger import services
from ledger.choices import Role, TransactionStatus, TransactionType
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
from ledger.tests.factories import add_member

pytestmark = pytest.mark.django_db

OWNER, EDITOR, VIEWER, OUTSIDER = "owner", "editor", "viewer", "outsider"
ROLES = (OWNER, EDITOR, VIEWER, OUTSIDER)
#: An id no row has: what an outsider's answer must be indistinguishable from.
MISSING = 999_999
DAY = datetime.date(2026, 3, 15)
SECRET = "secret-row-of-the-shared-household"
NEWCOMER = "newcomer@example.com"
IMPORTED = "Imported into the shared account"

API = "/api/v1/"


# --- The world every case runs in --------------------------------------------------------------


@dataclasses.dataclass
class World:
    role: str
    actor: Any
    founder: Any
    bystander: Any
    ids: dict[str, int]
    client: APIClient


def build_world(role: str) -> World:
    founder, actor, bystander = UserFactory(), UserFactory(), UserFactory()
    ledger = services.ledger_create(user=founder, name="Shared household")
    main = Account.objects.get(ledger=ledger, name="Main")
    savings = services.account_create(actor=founder, ledger=ledger, name="Savings")
    spare = services.account_create(actor=founder, ledger=ledger, name="Spare")  # no rows
    category = services.category_create(actor=founder, name="Groceries", ledger=ledger)
    expense = services.transaction_create(
        actor=founder,
        type=TransactionType.EXPENSE,
        description=SECRET,
        amount=Decimal("10.00"),
        date=DAY,
        category=category,
        account=main,
        status=TransactionStatus.CLEARED,
    )
    income = services.transaction_create(
        actor=founder,
        type=TransactionType.INCOME,
        description=SECRET,
        amount=Decimal("700.00"),
        date=DAY,
        account=main,
    )
    transfer = services.transfer_create(
        actor=founder, from_account=main, to_account=savings, amount=Decimal("50.00"), date=DAY
    )
    leg_out, leg_in = sorted(transfer.legs.all(), key=lambda leg: leg.amount)
    invitation = services.invitation_create(
        ledger=ledger, actor=founder, email="invitee@example.com", role=Role.VIEWER
    )
    job = ImportJob.objects.create(
        owner=founder,
        account=main,
        file="imports/2026/03/bank.csv",
        filename="bank.csv",
        format=ImportJob.Format.CSV,
        status=ImportJob.Status.SUCCEEDED,
        rows_total=1,
        rows_processed=1,
        created_count=1,
    )
    add_member(ledger, bystander, Role.VIEWER)
    if role != OUTSIDER:
        add_member(ledger, actor, role)
    # The actor's own row, in their personal ledger's Main account.
    own = services.transaction_create(
        actor=actor, type=TransactionType.EXPENSE, description="own", amount=Decimal("3"), date=DAY
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(actor))
    ids = {
        "ledger": ledger.pk,
        "main": main.pk,
        "savings": savings.pk,
        "spare": spare.pk,
        "category": category.pk,
        "expense": expense.pk,
        "income": income.pk,
        "transfer": transfer.pk,
        "leg_out": leg_out.pk,
        "leg_in": leg_in.pk,
        "invitation": invitation.pk,
        "job": job.pk,
        "own": own.pk,
        "own_main": own.account_id,
        "actor": actor.pk,
        "bystander": bystander.pk,
    }
    return World(role, actor, founder, bystander, ids, client)


def snapshot() -> dict[str, Any]:
    """Every row a request could change, with its version."""

    def rows(queryset, *fields):
        return sorted(queryset.values_list(*fields))

    return {
        "ledgers": rows(Ledger.objects, "id", "name", "version"),
        "members": rows(Membership.objects, "ledger_id", "user_id", "role"),
        "invitations": rows(Invitation.objects, "id", "ledger_id", "email", "role", "status"),
        "accounts": rows(
            Account.objects,
            "id",
            "ledger_id",
            "name",
            "kind",
            "opening_balance",
            "archived",
            "version",
        ),
        "categories": rows(Category.objects, "id", "ledger_id", "name", "version"),
        "transactions": rows(
            Transaction.objects,
            "id",
            "ledger_id",
            "account_id",
            "type",
            "description",
            "amount",
            "date",
            "category_id",
            "status",
            "transfer_id",
            "version",
        ),
        "transfers": rows(Transfer.objects, "id", "version"),
        "import_jobs": rows(ImportJob.objects, "id", "account_id", "status"),
        "history": Transaction.history.count(),
    }


# --- Reading answers ---------------------------------------------------------------------------


def listed_ids(response) -> set[int]:
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    return {row["id"] for row in rows}


def summary_count(response) -> int:
    body = response.json()
    return sum(row["count"] for row in body) if isinstance(body, list) else body["count"]


def streamed(response) -> str:
    return b"".join(response.streaming_content).decode()


# --- The table ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Shows:
    """What a read lists: the world's rows (by key) that a member sees and an outsider never."""

    rows: tuple[str, ...] = ()
    #: For summaries: the count a member gets, and the one an outsider gets (their own rows).
    count: tuple[int, int] | None = None
    #: For exports: the ledger's text is in a member's file, never in an outsider's.
    text: bool = False


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    method: str
    url: str  # a template: "{ledger}" and the like are the world's ids
    expect: tuple[int, int, int, int]  # owner, editor, viewer, outsider
    body: Any = None  # templates too; a callable is called (a fresh upload)
    #: The ids an outsider's answer must treat as nonexistent: the same request with these
    #: replaced by MISSING must get the very same answer.
    refs: tuple[str, ...] = ()
    shows: Shows | None = None
    #: Checked after an accepted write, with the world's ids.
    effect: Callable[[dict[str, int]], bool] | None = None
    multipart: bool = False

    def __str__(self) -> str:
        return self.name


def C(  # one row of the table
    method: str, url: str, expect: str, **kwargs: Any
) -> Case:
    statuses = tuple(int(s) for s in expect.split())
    assert len(statuses) == 4
    return Case(name=f"{method} {url}", method=method, url=url, expect=statuses, **kwargs)


TX_ROWS = ("expense", "income", "leg_out", "leg_in")
ACCOUNTS = ("main", "savings", "spare")
TX_BODY = {
    "type": "EXPENSE",
    "description": "written",
    "amount": "12.00",
    "date": "2026-03-16",
    "account": "{main}",
}


def _upload() -> dict[str, Any]:
    content = f"date,description,amount\n2026-03-10,{IMPORTED},-5.00\n".encode()
    return {"file": SimpleUploadedFile("bank.csv", content), "account": "{main}"}


def _tx(pk: int) -> Transaction | None:
    return Transaction.objects.filter(pk=pk).first()


def _gone(model, key: str) -> Callable[[dict[str, int]], bool]:
    return lambda ids: not model.objects.filter(pk=ids[key]).exists()


def _role_of(key: str, role: str) -> Callable[[dict[str, int]], bool]:
    return lambda ids: Membership.objects.filter(
        ledger_id=ids["ledger"], user_id=ids[key], role=role
    ).exists()


def _in_main(description: str) -> Callable[[dict[str, int]], bool]:
    return lambda ids: Transaction.objects.filter(
        account_id=ids["main"], ledger_id=ids["ledger"], description=description
    ).exists()


#                 method    url                                       owner editor viewer outsider
CASES = [
    # The ledger itself.
    C("GET", "ledgers/", "200 200 200 200", shows=Shows(rows=("ledger",))),
    C("GET", "ledgers/{ledger}/", "200 200 200 404", refs=("ledger",)),
    C(
        "PATCH",
        "ledgers/{ledger}/",
        "200 403 403 404",
        body={"name": "Renamed"},
        refs=("ledger",),
        effect=lambda ids: Ledger.objects.get(pk=ids["ledger"]).name == "Renamed",
    ),
    C(
        "PUT",
        "ledgers/{ledger}/",
        "200 403 403 404",
        body={"name": "Renamed"},
        refs=("ledger",),
        effect=lambda ids: Ledger.objects.get(pk=ids["ledger"]).name == "Renamed",
    ),
    C(
        "DELETE",
        "ledgers/{ledger}/",
        "204 403 403 404",
        refs=("ledger",),
        effect=lambda ids: (
            not Ledger.objects.filter(pk=ids["ledger"]).exists()
            and _tx(ids["expense"]) is None
            and not Account.objects.filter(pk=ids["main"]).exists()
        ),
    ),
    # Its members.
    C("GET", "ledgers/{ledger}/members/", "200 200 200 404", refs=("ledger",)),
    C("GET", "ledgers/{ledger}/members/{bystander}/", "200 200 200 404", refs=("ledger",)),
    C(
        "PATCH",
        "ledgers/{ledger}/members/{bystander}/",
        "200 403 403 404",
        body={"role": "editor"},
        refs=("ledger",),
        effect=_role_of("bystander", Role.EDITOR),
    ),
    C(
        "PUT",
        "ledgers/{ledger}/members/{bystander}/",
        "405 405 405 405",
        body={"role": "editor"},
        refs=("ledger",),
    ),
    C(
        "DELETE",
        "ledgers/{ledger}/members/{bystander}/",
        "204 403 403 404",
        refs=("ledger",),
        effect=lambda ids: (
            not Membership.objects.filter(user_id=ids["bystander"]).exclude(
                ledger__personal_for_id=ids["bystander"]
            )
        ),
    ),
    # One's own membership: a member may leave; only an owner changes a role, their own too.
    C(
        "PATCH",
        "ledgers/{ledger}/members/{actor}/",
        "200 403 403 404",
        body={"role": "editor"},
        refs=("ledger",),
        effect=_role_of("actor", Role.EDITOR),
    ),
    C(
        "DELETE",
        "ledgers/{ledger}/members/{actor}/",
        "204 204 204 404",
        refs=("ledger",),
        effect=lambda ids: (
            not Membership.objects.filter(ledger_id=ids["ledger"], user_id=ids["actor"]).exists()
        ),
    ),
    # Its invitations.
    C("GET", "ledgers/{ledger}/invitations/", "200 403 403 404", refs=("ledger",)),
    C(
        "POST",
        "ledgers/{ledger}/invitations/",
        "201 403 403 404",
        body={"email": NEWCOMER, "role": "editor"},
        refs=("ledger",),
        effect=lambda ids: (
            Invitation.objects.filter(ledger_id=ids["ledger"], email=NEWCOMER)
            .filter(role=Role.EDITOR, status=Invitation.Status.PENDING)
            .exists()
        ),
    ),
    C(
        "DELETE",
        "ledgers/{ledger}/invitations/{invitation}/",
        "204 403 403 404",
        refs=("ledger",),
        effect=_gone(Invitation, "invitation"),
    ),
    # Accounts.
    C("GET", "accounts/", "200 200 200 200", shows=Shows(rows=ACCOUNTS)),
    C(
        "GET",
        "accounts/?ledger={ledger}",
        "200 200 200 400",
        refs=("ledger",),
        shows=Shows(rows=ACCOUNTS),
    ),
    C(
        "POST",
        "accounts/",
        "201 201 403 400",
        body={"ledger": "{ledger}", "name": "Holidays", "kind": "savings"},
        refs=("ledger",),
        effect=lambda ids: Account.objects.filter(
            ledger_id=ids["ledger"], name="Holidays"
        ).exists(),
    ),
    C("GET", "accounts/{main}/", "200 200 200 404", refs=("main",)),
    C(
        "PATCH",
        "accounts/{main}/",
        "200 200 403 404",
        body={"name": "Current"},
        refs=("main",),
        effect=lambda ids: Account.objects.get(pk=ids["main"]).name == "Current",
    ),
    C(
        "PUT",
        "accounts/{main}/",
        "200 200 403 404",
        body={"name": "Current", "kind": "checking", "opening_balance": "5.00"},
        refs=("main",),
        effect=lambda ids: Account.objects.get(pk=ids["main"]).opening_balance == Decimal("5"),
    ),
    C(
        "DELETE",
        "accounts/{spare}/",
        "204 204 403 404",
        refs=("spare",),
        effect=_gone(Account, "spare"),
    ),
    # An account with transactions stays (409) for those who may write; the rest as ever.
    C("DELETE", "accounts/{main}/", "409 409 403 404", refs=("main",)),
    C(
        "POST",
        "accounts/{main}/reconcile/",
        "200 200 403 404",
        body={"statement_date": "2026-03-15", "statement_balance": "-10.00"},
        refs=("main",),
        effect=lambda ids: _tx(ids["expense"]).status == TransactionStatus.RECONCILED,
    ),
    # Transfers.
    C("GET", "transfers/", "200 200 200 200", shows=Shows(rows=("transfer",))),
    C(
        "POST",
        "transfers/",
        "201 201 403 400",
        body={
            "from_account": "{savings}",
            "to_account": "{main}",
            "amount": "5.00",
            "date": "2026-03-16",
        },
        refs=("savings", "main"),
        effect=lambda ids: Transaction.objects.filter(
            account_id=ids["main"], type=TransactionType.TRANSFER, amount=Decimal("5")
        ).exists(),
    ),
    # From the actor's own account into the shared one: they must be able to write both.
    C(
        "POST",
        "transfers/",
        "201 201 403 400",
        body={"from_account": "{own_main}", "to_account": "{main}", "amount": "5.00"},
        refs=("main",),
        effect=lambda ids: Transaction.objects.filter(
            account_id=ids["main"], type=TransactionType.TRANSFER, amount=Decimal("5")
        ).exists(),
    ),
    C("GET", "transfers/{transfer}/", "200 200 200 404", refs=("transfer",)),
    C(
        "PATCH",
        "transfers/{transfer}/",
        "200 200 403 404",
        body={"amount": "60.00"},
        refs=("transfer",),
        effect=lambda ids: (
            _tx(ids["leg_in"]).amount == Decimal("60")
            and _tx(ids["leg_out"]).amount == Decimal("-60")
        ),
    ),
    C(
        "PUT",
        "transfers/{transfer}/",
        "200 200 403 404",
        body={
            "from_account": "{main}",
            "to_account": "{savings}",
            "amount": "60.00",
            "date": "2026-03-17",
            "description": "Moved",
        },
        refs=("transfer",),
        effect=lambda ids: _tx(ids["leg_in"]).description == "Moved",
    ),
    C(
        "DELETE",
        "transfers/{transfer}/",
        "204 204 403 404",
        refs=("transfer",),
        effect=lambda ids: _tx(ids["leg_in"]) is None and _tx(ids["leg_out"]) is None,
    ),
    # Transactions.
    C("GET", "transactions/", "200 200 200 200", shows=Shows(rows=TX_ROWS)),
    C(
        "GET",
        "transactions/?ledger={ledger}",
        "200 200 200 400",
        refs=("ledger",),
        shows=Shows(rows=TX_ROWS),
    ),
    C(
        "GET",
        "transactions/?account={main}",
        "200 200 200 400",
        refs=("main",),
        shows=Shows(rows=("expense", "income", "leg_out")),
    ),
    C(
        "GET",
        "transactions/?category={category}",
        "200 200 200 400",
        refs=("category",),
        shows=Shows(rows=("expense",)),
    ),
    C(
        "POST",
        "transactions/",
        "201 201 403 400",
        body=TX_BODY,
        refs=("main",),
        effect=_in_main("written"),
    ),
    C(
        "POST",
        "transactions/",
        "201 201 403 400",
        body={**TX_BODY, "category": "{category}"},
        refs=("main", "category"),
        effect=_in_main("written"),
    ),
    C("GET", "transactions/{expense}/", "200 200 200 404", refs=("expense",)),
    C(
        "PATCH",
        "transactions/{expense}/",
        "200 200 403 404",
        body={"description": "changed"},
        refs=("expense",),
        effect=lambda ids: _tx(ids["expense"]).description == "changed",
    ),
    C(
        "PUT",
        "transactions/{expense}/",
        "200 200 403 404",
        body=TX_BODY,
        refs=("expense",),
        effect=lambda ids: _tx(ids["expense"]).amount == Decimal("-12"),
    ),
    C(
        "DELETE",
        "transactions/{expense}/",
        "204 204 403 404",
        refs=("expense",),
        effect=lambda ids: _tx(ids["expense"]) is None,
    ),
    C("GET", "transactions/{expense}/history/", "200 200 200 404", refs=("expense",)),
    # A leg of the transfer, through transactions/: the whole transfer changes or goes.
    C("GET", "transactions/{leg_out}/", "200 200 200 404", refs=("leg_out",)),
    C(
        "PATCH",
        "transactions/{leg_out}/",
        "200 200 403 404",
        body={"amount": "70.00"},
        refs=("leg_out",),
        effect=lambda ids: _tx(ids["leg_in"]).amount == Decimal("70"),
    ),
    C(
        "DELETE",
        "transactions/{leg_out}/",
        "204 204 403 404",
        refs=("leg_out",),
        effect=lambda ids: _tx(ids["leg_in"]) is None and _gone(Transfer, "transfer")(ids),
    ),
    # Many at once (work in progress elsewhere: ledger/views_bulk.py).
    C(
        "POST",
        "transactions/batch/",
        "201 201 403 400",
        body=[TX_BODY],
        refs=("main",),
        effect=_in_main("written"),
    ),
    # The actor's own transaction moved into the shared ledger's account.
    C(
        "PATCH",
        "transactions/{own}/",
        "200 200 403 400",
        body={"account": "{main}"},
        refs=("main",),
        effect=lambda ids: _tx(ids["own"]).ledger_id == ids["ledger"],
    ),
    # Incomes and expenses.
    C("GET", "incomes/", "200 200 200 200", shows=Shows(rows=("income",))),
    C(
        "POST",
        "incomes/",
        "201 201 403 400",
        body={"description": "bonus", "amount": "5.00", "date": "2026-03-16", "account": "{main}"},
        refs=("main",),
        effect=_in_main("bonus"),
    ),
    C("GET", "incomes/{income}/", "200 200 200 404", refs=("income",)),
    C("GET", "expenses/", "200 200 200 200", shows=Shows(rows=("expense",))),
    C(
        "POST",
        "expenses/",
        "201 201 403 400",
        body={"description": "bread", "amount": "2.00", "date": "2026-03-16", "account": "{main}"},
        refs=("main",),
        effect=_in_main("bread"),
    ),
    C("GET", "expenses/{expense}/", "200 200 200 404", refs=("expense",)),
    C(
        "PATCH",
        "expenses/{expense}/",
        "200 200 403 404",
        body={"amount": "11.00"},
        refs=("expense",),
        effect=lambda ids: _tx(ids["expense"]).amount == Decimal("-11"),
    ),
    C(
        "DELETE",
        "expenses/{expense}/",
        "204 204 403 404",
        refs=("expense",),
        effect=lambda ids: _tx(ids["expense"]) is None,
    ),
    # Categories.
    C("GET", "categories/", "200 200 200 200", shows=Shows(rows=("category",))),
    C(
        "GET",
        "categories/?ledger={ledger}",
        "200 200 200 400",
        refs=("ledger",),
        shows=Shows(rows=("category",)),
    ),
    C(
        "POST",
        "categories/",
        "201 201 403 400",
        body={"name": "Rent", "ledger": "{ledger}"},
        refs=("ledger",),
        effect=lambda ids: Category.objects.filter(ledger_id=ids["ledger"], name="Rent").exists(),
    ),
    C("GET", "categories/{category}/", "200 200 200 404", refs=("category",)),
    C(
        "PATCH",
        "categories/{category}/",
        "200 200 403 404",
        body={"name": "Food"},
        refs=("category",),
        effect=lambda ids: Category.objects.get(pk=ids["category"]).name == "Food",
    ),
    C(
        "PUT",
        "categories/{category}/",
        "200 200 403 404",
        body={"name": "Food"},
        refs=("category",),
        effect=lambda ids: Category.objects.get(pk=ids["category"]).name == "Food",
    ),
    C(
        "DELETE",
        "categories/{category}/",
        "204 204 403 404",
        refs=("category",),
        effect=lambda ids: (
            _gone(Category, "category")(ids) and _tx(ids["expense"]).category_id is None
        ),
    ),
    # Summaries: a member's count is the ledger's 4 rows and their own; an outsider's their own.
    C("GET", "summary/", "200 200 200 200", shows=Shows(count=(5, 1))),
    C("GET", "summary/monthly/", "200 200 200 200", shows=Shows(count=(5, 1))),
    C("GET", "summary/by-category/", "200 200 200 200", shows=Shows(count=(5, 1))),
    C(
        "GET",
        "summary/?ledger={ledger}",
        "200 200 200 400",
        refs=("ledger",),
        shows=Shows(count=(4, 0)),
    ),
    C(
        "GET",
        "summary/monthly/?ledger={ledger}",
        "200 200 200 400",
        refs=("ledger",),
        shows=Shows(count=(4, 0)),
    ),
    C(
        "GET",
        "summary/by-category/?ledger={ledger}",
        "200 200 200 400",
        refs=("ledger",),
        shows=Shows(count=(4, 0)),
    ),
    C(
        "GET",
        "summary/?account={main}",
        "200 200 200 400",
        refs=("main",),
        shows=Shows(count=(3, 0)),
    ),
    # Exports (work in progress elsewhere: ledger/exports.py, ledger/views_bulk.py).
    C("GET", "export/", "200 200 200 200", shows=Shows(text=True)),
    C("GET", "export/?format=json", "200 200 200 200", shows=Shows(text=True)),
    C(
        "GET",
        "export/?account={main}",
        "200 200 200 400",
        refs=("main",),
        shows=Shows(text=True),
    ),
    C(
        "GET",
        "export/?ledger={ledger}",
        "200 200 200 400",
        refs=("ledger",),
        shows=Shows(text=True),
    ),
    # Imports (work in progress elsewhere: ledger/imports.py, ledger/views_bulk.py).
    C("GET", "imports/", "200 200 200 200", shows=Shows(rows=("job",))),
    C("GET", "imports/{job}/", "200 200 200 404", refs=("job",)),
    C(
        "POST",
        "imports/",
        "202 202 403 400",
        body=_upload,
        refs=("main",),
        multipart=True,
        effect=_in_main(IMPORTED),
    ),
]


# --- Running a case ----------------------------------------------------------------------------


def _fill(value: Any, ids: dict[str, Any]) -> Any:
    if callable(value):
        value = value()
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    return value


def _numbers(value: Any) -> Any:
    """A body's "{id}" templates, filled, are ids: numbers in JSON."""
    if isinstance(value, dict):
        return {key: _numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_numbers(item) for item in value]
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def send(client: APIClient, case: Case, ids: dict[str, Any], capture) -> Any:
    url = API + case.url.format(**ids)
    call = getattr(client, case.method.lower())
    with capture(execute=True):  # what the request queues on commit runs, as in production
        if case.body is None:
            return call(url)
        body = _fill(case.body, ids)
        if case.multipart:
            return call(url, body, format="multipart")
        return call(url, _numbers(body), format="json")


def _answer(response) -> Any:
    if getattr(response, "streaming", False):
        return streamed(response)
    return response.json() if response.content else None


def _check_shows(case: Case, world: World, response, answer: Any) -> None:
    shows = case.shows
    member = world.role != OUTSIDER
    if shows.rows:
        found = listed_ids(response)
        theirs = {world.ids[key] for key in shows.rows}
        if member:
            assert theirs <= found, f"a {world.role} must see {sorted(theirs - found)}"
        else:
            assert not theirs & found, f"an outsider sees the ledger's rows {theirs & found}"
    if shows.count is not None:
        assert summary_count(response) == shows.count[0 if member else 1]
    if shows.text:
        assert (SECRET in answer) is member


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_role_matrix(case: Case, role: str, django_capture_on_commit_callbacks):
    world = build_world(role)
    expected = case.expect[ROLES.index(role)]
    before = snapshot()

    response = send(world.client, case, world.ids, django_capture_on_commit_callbacks)

    answer = _answer(response)
    assert response.status_code == expected, f"{role} {case.name}: {response.status_code} {answer}"
    after = snapshot()
    if expected >= 400 or case.method == "GET":
        assert after == before, f"a refused {case.method} (or a read) changed the database"
    else:
        assert after != before, "an accepted write changed nothing"
        if case.effect is not None:
            assert case.effect(world.ids), "the write did not do what it says"
    if case.shows is not None and expected == 200:
        _check_shows(case, world, response, answer)
    if role == OUTSIDER and case.refs and expected in (400, 404):
        # Exactly the answer for ids that do not exist: nothing tells the ledger's rows exist.
        missing_ids = {**world.ids, **dict.fromkeys(case.refs, MISSING)}
        missing = send(world.client, case, missing_ids, django_capture_on_commit_callbacks)
        assert missing.status_code == response.status_code
        answer_text = str(answer)
        for key in case.refs:
            answer_text = answer_text.replace(str(world.ids[key]), str(MISSING))
        assert answer_text == str(_answer(missing)), "the answer differs from a missing id's"
        assert snapshot() == before


def test_the_table_covers_every_endpoint_and_method():
    """The matrix names every route of issue 22, with the methods each has."""
    covered = {(case.method, case.url.split("?")[0]) for case in CASES}
    required = {
        ("GET", "ledgers/{ledger}/"),
        ("PATCH", "ledgers/{ledger}/"),
        ("PUT", "ledgers/{ledger}/"),
        ("DELETE", "ledgers/{ledger}/"),
        ("GET", "ledgers/{ledger}/members/"),
        ("GET", "ledgers/{ledger}/members/{bystander}/"),
        ("PATCH", "ledgers/{ledger}/members/{bystander}/"),
        ("DELETE", "ledgers/{ledger}/members/{bystander}/"),
        ("GET", "ledgers/{ledger}/invitations/"),
        ("POST", "ledgers/{ledger}/invitations/"),
        ("DELETE", "ledgers/{ledger}/invitations/{invitation}/"),
        ("GET", "accounts/"),
        ("POST", "accounts/"),
        ("GET", "accounts/{main}/"),
        ("PATCH", "accounts/{main}/"),
        ("PUT", "accounts/{main}/"),
        ("DELETE", "accounts/{spare}/"),
        ("POST", "accounts/{main}/reconcile/"),
        ("GET", "transfers/"),
        ("POST", "transfers/"),
        ("GET", "transfers/{transfer}/"),
        ("PATCH", "transfers/{transfer}/"),
        ("PUT", "transfers/{transfer}/"),
        ("DELETE", "transfers/{transfer}/"),
        ("GET", "transactions/"),
        ("POST", "transactions/"),
        ("GET", "transactions/{expense}/"),
        ("PATCH", "transactions/{expense}/"),
        ("PUT", "transactions/{expense}/"),
        ("DELETE", "transactions/{expense}/"),
        ("GET", "transactions/{expense}/history/"),
        ("GET", "incomes/"),
        ("POST", "incomes/"),
        ("GET", "expenses/"),
        ("POST", "expenses/"),
        ("GET", "categories/"),
        ("POST", "categories/"),
        ("GET", "categories/{category}/"),
        ("PATCH", "categories/{category}/"),
        ("PUT", "categories/{category}/"),
        ("DELETE", "categories/{category}/"),
        ("GET", "summary/"),
        ("GET", "summary/monthly/"),
        ("GET", "summary/by-category/"),
        ("GET", "export/"),
        ("GET", "imports/"),
        ("POST", "imports/"),
    }
    assert required <= covered, sorted(required - covered)
    # Every filter or body reference of the ledger's rows is probed against a missing id.
    for case in CASES:
        if case.expect[3] in (400, 404):
            assert case.refs, case.name


DETAIL_URLS = sorted(
    {(case.url, case.refs) for case in CASES if case.expect[3] == 404 and "?" not in case.url}
)


@pytest.mark.parametrize(("url", "refs"), DETAIL_URLS, ids=[url for url, _ in DETAIL_URLS])
def test_an_outsiders_options_say_what_they_say_for_a_missing_id(url, refs):
    """OPTIONS describes an endpoint; for an outsider it must not tell a row of the ledger from
    one that does not exist."""
    world = build_world(OUTSIDER)
    missing_ids = {**world.ids, **dict.fromkeys(refs, MISSING)}
    theirs = world.client.options(API + url.format(**world.ids))
    missing = world.client.options(API + url.format(**missing_ids))
    assert theirs.status_code == missing.status_code
    assert theirs.json() == missing.json()
