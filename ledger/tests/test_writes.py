"""Every write of the ledger goes through ledger.services, each in one unit of work that ends the
cached answers of every member of the ledgers it changed: no other module writes the ledger's
tables (transactions, categories, accounts, ledgers, their members, invitations and transfers),
and a row of a ledger saved or deleted outside a unit is refused."""

import ast
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.tests.factories import UserFactory
from ledger import services
from ledger.choices import Role
from ledger.models import Account, Category, Invitation, Membership, Transaction
from ledger.services.unit_of_work import OutsideUnitOfWork, unit_of_work
from ledger.tests.factories import (
    CategoryFactory,
    SharedLedgerFactory,
    TransactionFactory,
    add_member,
    main_account,
    personal_ledger,
)

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "ledger" / "services"
#: What writes rows, called on a queryset, a manager or a cursor.
WRITES = {
    "save",
    "delete",
    "update",
    "create",
    "get_or_create",
    "update_or_create",
    "bulk_create",
    "bulk_update",
    "bulk_history_create",
    "bulk_create_with_history",
    "copy_expert",
}
#: What names the ledger's tables in a call's receiver (`Account` and `Ledger` name
#: `Account(...)`, `Ledger.objects...`, `Membership`, `Invitation` and `Transfer` theirs).
LEDGER = (
    "Transaction",
    "Category",
    "Account",
    "Ledger",
    "Membership",
    "Invitation",
    "Transfer",
    "IdempotencyKey",
    "scope.writable",
    "bulk_create_with_history",
)
#: The ledger's tables, as SQL text names them.
TABLES = "transaction|category|account|ledger|membership|invitation|transfer|idempotencykey"


SQL_WRITE = re.compile(rf"\b(INSERT|UPDATE|DELETE|COPY)\b.*\bledger_({TABLES})\b", re.I | re.S)


def ledger_writes(path: Path, root: Path = ROOT) -> list[str]:
    """Calls of a write on something that names a ledger table (`Transaction.objects...`,
    `Membership.objects...`, `scope.writable(...)`), every COPY or bulk insert whatever it names,
    and SQL text that writes a ledger table. (Writes on a queryset or a row of a ledger are
    refused at run time outside a unit of work too: `TestUnitOfWork`.)"""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if SQL_WRITE.search(node.value):
                found.append(f"{path.relative_to(root)}:{node.lineno} SQL {node.value[:40]!r}")
            continue
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in WRITES:
            continue
        receiver = ast.unparse(func.value) if isinstance(func, ast.Attribute) else name
        if name in ("copy_expert", "bulk_create_with_history") or any(
            table in receiver for table in LEDGER
        ):
            found.append(f"{path.relative_to(root)}:{node.lineno} {ast.unparse(func)}")
    return found


MODULES = sorted(
    path.relative_to(ROOT).as_posix()
    for app in ("accounts", "ledger", "cashman_site")
    for path in (ROOT / app).rglob("*.py")
    if "tests" not in path.parts and "migrations" not in path.parts and SERVICES not in path.parents
)


@pytest.mark.parametrize("module", MODULES)
def test_no_module_but_the_services_writes_the_ledger(module):
    assert ledger_writes(ROOT / module) == []


def test_the_check_finds_the_services_writes():
    found = [line for path in SERVICES.glob("*.py") for line in ledger_writes(path)]
    assert any("copy_expert" in line for line in found)
    assert any("IdempotencyKey.objects.create" in line for line in found)
    # The households' writes: a ledger's account, its members, a transfer, its legs.
    assert any("Account(" in line and line.endswith(".save") for line in found)
    assert any("Membership.objects" in line for line in found)
    assert any("Transfer.objects.create" in line for line in found)


def test_the_check_finds_a_write_of_each_ledger_table(tmp_path):
    """The check itself: a module that writes any of the ledger's tables is caught."""
    module = tmp_path / "rogue.py"
    module.write_text(
        "Account.objects.filter(pk=1).update(archived=True)\n"
        "Membership.objects.create(ledger=l, user=u, role='owner')\n"
        "Ledger(name='x').save()\n"
        "Invitation.objects.filter(pk=1).delete()\n"
        "Transfer.objects.create()\n"
        "cursor.execute('UPDATE ledger_membership SET role = %s', ['viewer'])\n"
        "cursor.execute('DELETE FROM ledger_account WHERE id = 1')\n"
        "cursor.execute('SELECT * FROM ledger_membership')\n"
    )
    found = ledger_writes(module, root=tmp_path)
    assert len(found) == 7, found
    assert not any("SELECT" in line for line in found)


def generation(user: User) -> int:
    return User.objects.values_list("ledger_generation", flat=True).get(pk=user.pk)


@pytest.mark.django_db
class TestUnitOfWork:
    def test_a_row_saved_outside_a_unit_is_refused(self, user):
        ledger = personal_ledger(user)
        main = main_account(user)
        with pytest.raises(OutsideUnitOfWork):
            Category(ledger=ledger, name="Food").save()
        with pytest.raises(OutsideUnitOfWork):
            Account(ledger=ledger, name="Savings").save()
        tx = TransactionFactory(owner=user)
        tx.description = "changed"
        with pytest.raises(OutsideUnitOfWork):
            tx.save()
        with pytest.raises(OutsideUnitOfWork):
            tx.delete()
        with pytest.raises(OutsideUnitOfWork), transaction.atomic():
            Transaction.objects.create(
                ledger=ledger,
                account=main,
                created_by=user,
                type="EXPENSE",
                description="x",
                amount=-1,
                date="2026-01-01",
            )
        main.name = "Renamed"
        with pytest.raises(OutsideUnitOfWork):
            main.save()
        with pytest.raises(OutsideUnitOfWork), transaction.atomic():
            Account.objects.get(pk=main.pk).delete()
        assert Transaction.objects.get().description != "changed"
        assert not Category.objects.exists()
        assert list(Account.objects.filter(ledger=ledger).values_list("name", flat=True)) == [
            "Main"
        ]

    def test_writes_of_many_rows_outside_a_unit_are_refused(self, user):
        tx = TransactionFactory(owner=user)
        ledger = personal_ledger(user)
        for write in (
            lambda: Transaction.objects.filter(pk=tx.pk).update(description="changed"),
            lambda: Transaction.objects.filter(pk=tx.pk).delete(),
            lambda: Category.objects.bulk_create([Category(ledger=ledger, name="Food")]),
            lambda: Transaction.objects.bulk_update([tx], ["description"]),
            lambda: Account.objects.filter(ledger=ledger).update(archived=True),
            lambda: Account.objects.bulk_create([Account(ledger=ledger, name="Savings")]),
            lambda: Account.objects.filter(ledger=ledger).delete(),
        ):
            with pytest.raises(OutsideUnitOfWork):
                write()
        assert Transaction.objects.get().description == tx.description
        assert not Category.objects.exists()
        assert list(Account.objects.filter(ledger=ledger).values_list("archived", flat=True)) == [
            False
        ]

    def test_a_unit_ends_each_members_cached_answers_once(self, user, other_user):
        """Every member of every ledger the unit wrote gets a new generation, once, in one
        UPDATE at the end, however many of those ledgers they are in; nobody else does."""
        outsider = UserFactory()
        shared = SharedLedgerFactory(owner=user)
        add_member(shared, other_user, Role.VIEWER)
        mine, theirs = personal_ledger(user), personal_ledger(other_user)
        people = (user, other_user, outsider)
        before = [generation(u) for u in people]
        with CaptureQueriesContext(connection) as queries, unit_of_work(mine.pk) as unit:
            CategoryFactory(owner=user)
            TransactionFactory(owner=user)
            with unit_of_work(shared.pk):  # joins the unit open here
                TransactionFactory(account=shared.accounts.get())
            assert unit.ledgers == {mine.pk, shared.pk}
            assert [generation(u) for u in people] == before
        raised = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
        assert len(raised) == 1  # one UPDATE of the members' rows, at the end
        assert "ledger_generation" in raised[0]
        assert [generation(u) for u in people] == [before[0] + 1, before[1] + 1, before[2]]
        with unit_of_work(theirs.pk):
            TransactionFactory(owner=other_user)
        assert [generation(u) for u in people] == [before[0] + 1, before[1] + 2, before[2]]

    def test_a_unit_that_fails_changes_nothing(self, user):
        before = generation(user)
        with pytest.raises(ZeroDivisionError), unit_of_work(personal_ledger(user).pk):
            TransactionFactory(owner=user)
            1 / 0  # noqa: B018
        assert generation(user) == before
        assert not Transaction.objects.exists()

    def test_every_service_write_raises_the_generation(self, user):
        seen = [generation(user)]

        def wrote():
            seen.append(generation(user))
            return seen[-1] > seen[-2]

        personal, main = personal_ledger(user), main_account(user)
        food = services.category_create(actor=user, name="Food")
        assert wrote()
        services.category_update(category=food, name="Groceries", actor=user)
        assert wrote()
        tx = services.transaction_create(actor=user, type="EXPENSE", description="x", amount=-1)
        assert wrote()
        services.transaction_update(transaction=tx, data={"description": "y"}, actor=user)
        assert wrote()
        services.transactions_insert(
            actor=user,
            transactions=[
                Transaction(
                    ledger=personal,
                    account=main,
                    created_by=user,
                    type="INCOME",
                    description="z",
                    amount=2,
                    date=tx.date,
                )
            ],
            batch_size=10,
        )
        assert wrote()
        savings = services.account_create(actor=user, ledger=personal, name="Savings")
        assert wrote()
        services.account_update(account=savings, actor=user, data={"name": "Rainy day"})
        assert wrote()
        transfer = services.transfer_create(
            actor=user, from_account=main, to_account=savings, amount=Decimal("5")
        )
        assert wrote()
        services.transfer_update(transfer=transfer, actor=user, data={"amount": Decimal("6")})
        assert wrote()
        services.transfer_delete(transfer=transfer, actor=user)
        assert wrote()
        services.account_delete(account=savings, actor=user)
        assert wrote()
        services.transaction_delete(transaction=tx, actor=user)
        assert wrote()
        services.category_delete(category=food, actor=user)
        assert wrote()
        home = services.ledger_create(user=user, name="Home")
        assert wrote()
        services.ledger_update(ledger=home, actor=user, name="House")
        assert wrote()
        services.ledger_delete(ledger=home, actor=user)
        assert wrote()
        services.ledger_clear(ledger_id=personal.pk)
        assert wrote()
        assert not Transaction.objects.exists()

    def test_a_change_of_members_raises_the_generations_it_concerns(self, user, other_user):
        """Adding, changing and removing a member ends that member's cached answers (the roles
        read with them too); a write in a shared ledger ends every member's."""
        outsider = UserFactory()
        shared = SharedLedgerFactory(owner=user)
        invitation = services.invitation_create(
            ledger=shared, actor=user, email=other_user.email, role=Role.EDITOR
        )
        before = generation(other_user)
        membership = services.invitation_accept(
            invitation=invitation,
            user=other_user,
            token=services.invitation_token(invitation),
        )
        assert generation(other_user) == before + 1
        assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.ACCEPTED

        people = (user, other_user, outsider)
        before = [generation(u) for u in people]
        services.transaction_create(
            actor=other_user,
            type="EXPENSE",
            description="Shared",
            amount=-3,
            account=shared.accounts.get(),
        )
        assert [generation(u) for u in people] == [before[0] + 1, before[1] + 1, before[2]]

        before = [generation(u) for u in people]
        services.member_update(membership=membership, actor=user, role=Role.VIEWER)
        assert generation(other_user) == before[1] + 1
        assert Membership.objects.get(pk=membership.pk).role == Role.VIEWER
        services.member_remove(membership=membership, actor=user)
        assert generation(other_user) == before[1] + 2
        assert not Membership.objects.filter(ledger=shared, user=other_user).exists()
        assert generation(outsider) == before[2]

    def test_a_unit_marked_for_rollback_ends_nothing(self, user):
        """An Idempotency-Key request answered with an error rolls back: a batch with an
        invalid row is a 400, saves nothing and leaves the cached answers alone."""
        before = generation(user)
        with unit_of_work() as unit:
            TransactionFactory(owner=user)
            assert personal_ledger(user).pk in unit.ledgers
            transaction.set_rollback(True)
        assert generation(user) == before
        assert not Transaction.objects.exists()

    def test_an_idempotent_batch_with_an_invalid_row(self, auth_client, user):
        before = generation(user)
        rows = [{"type": "EXPENSE", "description": "ok", "amount": "1"}, {"amount": "x"}]
        response = auth_client.post(
            "/api/v1/transactions/batch/", rows, format="json", HTTP_IDEMPOTENCY_KEY="k1"
        )
        assert response.status_code == 400, response.content
        assert response.json()["invalid"] == 1
        assert not Transaction.objects.exists()
        assert generation(user) == before
        response = auth_client.post(
            "/api/v1/transactions/batch/", rows[:1], format="json", HTTP_IDEMPOTENCY_KEY="k1"
        )
        assert response.status_code == 201, response.content
        assert generation(user) == before + 1

    def test_a_dry_run_ends_nothing(self, auth_client, user):
        before = generation(user)
        rows = [{"type": "EXPENSE", "description": "ok", "amount": "1"}]
        response = auth_client.post("/api/v1/transactions/batch/?dry_run=true", rows, format="json")
        assert response.status_code == 200, response.content
        assert generation(user) == before


@pytest.mark.django_db(transaction=True)
def test_what_runs_on_commit_writes_in_a_unit_of_its_own(user):
    """An import run in this process (Celery eager) starts when its upload's unit commits: its
    writes must open units of their own, which end the cached answers again."""
    before = generation(user)
    with unit_of_work(personal_ledger(user).pk):
        transaction.on_commit(
            lambda: services.transaction_create(
                actor=user, type="EXPENSE", description="later", amount=-1
            )
        )
    assert Transaction.objects.filter(description="later").exists()
    assert generation(user) == before + 2
