"""Every write of the ledger goes through ledger.services, each in one unit of work that ends the
owner's cached answers: no other module writes the ledger's tables, and a row saved or deleted
outside a unit is refused."""

import ast
import re
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from ledger import services
from ledger.models import Category, Transaction
from ledger.services.unit_of_work import OutsideUnitOfWork, unit_of_work
from ledger.tests.factories import CategoryFactory, TransactionFactory

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
#: What names the ledger's tables in a call's receiver.
LEDGER = ("Transaction", "Category", "IdempotencyKey", "scope.writable", "bulk_create_with_history")


SQL_WRITE = re.compile(
    r"\b(INSERT|UPDATE|DELETE|COPY)\b.*\bledger_(transaction|category)", re.I | re.S
)


def ledger_writes(path: Path) -> list[str]:
    """Calls of a write on something that names a ledger table (`Transaction.objects...`,
    `scope.writable(...)`), every COPY or bulk insert whatever it names, and SQL text that
    writes a ledger table. (Writes on a queryset or a row are refused at run time outside a
    unit of work too: `TestUnitOfWork`.)"""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if SQL_WRITE.search(node.value):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} SQL {node.value[:40]!r}")
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
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(func)}")
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
    assert any("scope.writable" in line for line in found)
    assert any("IdempotencyKey.objects.create" in line for line in found)


@pytest.mark.django_db
class TestUnitOfWork:
    def generation(self, user: User) -> int:
        return User.objects.values_list("ledger_generation", flat=True).get(pk=user.pk)

    def test_a_row_saved_outside_a_unit_is_refused(self, user):
        with pytest.raises(OutsideUnitOfWork):
            Category(owner=user, name="Food").save()
        tx = TransactionFactory(owner=user)
        tx.description = "changed"
        with pytest.raises(OutsideUnitOfWork):
            tx.save()
        with pytest.raises(OutsideUnitOfWork):
            tx.delete()
        with pytest.raises(OutsideUnitOfWork), transaction.atomic():
            Transaction.objects.create(
                owner=user, type="EXPENSE", description="x", amount=-1, date="2026-01-01"
            )
        assert Transaction.objects.get().description != "changed"
        assert not Category.objects.exists()

    def test_writes_of_many_rows_outside_a_unit_are_refused(self, user):
        tx = TransactionFactory(owner=user)
        for write in (
            lambda: Transaction.objects.filter(pk=tx.pk).update(description="changed"),
            lambda: Transaction.objects.filter(pk=tx.pk).delete(),
            lambda: Category.objects.bulk_create([Category(owner=user, name="Food")]),
            lambda: Transaction.objects.bulk_update([tx], ["description"]),
        ):
            with pytest.raises(OutsideUnitOfWork):
                write()
        assert Transaction.objects.get().description == tx.description
        assert not Category.objects.exists()

    def test_a_unit_ends_each_owners_cached_answers_once(self, user, other_user):
        before = self.generation(user), self.generation(other_user)
        with CaptureQueriesContext(connection) as queries, unit_of_work(user.pk) as unit:
            CategoryFactory(owner=user)
            TransactionFactory(owner=user)
            with unit_of_work(other_user.pk):  # joins the unit open here
                TransactionFactory(owner=other_user)
            assert unit.owners == {user.pk, other_user.pk}
            assert (self.generation(user), self.generation(other_user)) == before
        raised = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
        assert len(raised) == 2  # one UPDATE per owner, at the end
        assert (self.generation(user), self.generation(other_user)) == (
            before[0] + 1,
            before[1] + 1,
        )

    def test_a_unit_that_fails_changes_nothing(self, user):
        before = self.generation(user)
        with pytest.raises(ZeroDivisionError), unit_of_work(user.pk):
            TransactionFactory(owner=user)
            1 / 0  # noqa: B018
        assert self.generation(user) == before
        assert not Transaction.objects.exists()

    def test_every_service_write_raises_the_generation(self, user):
        seen = [self.generation(user)]

        def wrote():
            seen.append(self.generation(user))
            return seen[-1] > seen[-2]

        food = services.category_create(owner=user, name="Food")
        assert wrote()
        services.category_update(category=food, name="Groceries")
        assert wrote()
        tx = services.transaction_create(owner=user, type="EXPENSE", description="x", amount=-1)
        assert wrote()
        services.transaction_update(transaction=tx, data={"description": "y"})
        assert wrote()
        services.transactions_insert(
            user,
            [Transaction(owner=user, type="INCOME", description="z", amount=2, date=tx.date)],
            batch_size=10,
        )
        assert wrote()
        services.transaction_delete(transaction=tx)
        assert wrote()
        services.category_delete(category=food)
        assert wrote()
        services.ledger_clear(owner=user)
        assert wrote()
        assert not Transaction.objects.exists()

    def test_a_unit_marked_for_rollback_ends_nothing(self, user):
        """An Idempotency-Key request answered with an error rolls back: a batch with an
        invalid row is a 400, saves nothing and leaves the cached answers alone."""
        before = self.generation(user)
        with unit_of_work() as unit:
            TransactionFactory(owner=user)
            assert user.pk in unit.owners
            transaction.set_rollback(True)
        assert self.generation(user) == before
        assert not Transaction.objects.exists()

    def test_an_idempotent_batch_with_an_invalid_row(self, auth_client, user):
        before = self.generation(user)
        rows = [{"type": "EXPENSE", "description": "ok", "amount": "1"}, {"amount": "x"}]
        response = auth_client.post(
            "/api/v1/transactions/batch/", rows, format="json", HTTP_IDEMPOTENCY_KEY="k1"
        )
        assert response.status_code == 400, response.content
        assert response.json()["invalid"] == 1
        assert not Transaction.objects.exists()
        assert self.generation(user) == before
        response = auth_client.post(
            "/api/v1/transactions/batch/", rows[:1], format="json", HTTP_IDEMPOTENCY_KEY="k1"
        )
        assert response.status_code == 201, response.content
        assert self.generation(user) == before + 1

    def test_a_dry_run_ends_nothing(self, auth_client, user):
        before = self.generation(user)
        rows = [{"type": "EXPENSE", "description": "ok", "amount": "1"}]
        response = auth_client.post("/api/v1/transactions/batch/?dry_run=true", rows, format="json")
        assert response.status_code == 200, response.content
        assert self.generation(user) == before


@pytest.mark.django_db(transaction=True)
def test_what_runs_on_commit_writes_in_a_unit_of_its_own(user):
    """An import run in this process (Celery eager) starts when its upload's unit commits: its
    writes must open units of their own, which end the cached answers again."""
    generation = lambda: User.objects.get(pk=user.pk).ledger_generation  # noqa: E731
    before = generation()
    with unit_of_work(user.pk):
        transaction.on_commit(
            lambda: services.transaction_create(
                owner=user, type="EXPENSE", description="later", amount=-1
            )
        )
    assert Transaction.objects.filter(description="later").exists()
    assert generation() == before + 2
