"""The fast paths (cashman_site.fastpaths): written for one Django release, off on any other;
each answers what its plain ORM path answers. Underneath, statements compiled once: the
queryset's own SQL, its rows as the ORM gives them, and only for the id they are run with."""

import datetime
from decimal import Decimal

import django
import pytest
from django.db import connection
from django.db.models import IntegerField, QuerySet, Value
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.selectors import user_by_id
from accounts.tests.factories import UserFactory
from cashman_site import fastpaths
from cashman_site.fastpaths.statements import (
    PLACEHOLDER,
    IdStatement,
    ModelStatement,
    ShapedStatements,
    Statement,
    where_clause,
)
from cashman_site.serializers import value_columns
from ledger import scope, selectors
from ledger.choices import Role, TransactionType
from ledger.models import Account, Category, Ledger, Membership, Transaction
from ledger.selectors import transactions_for
from ledger.serializers import TransactionSerializer
from ledger.tests.factories import (
    CategoryFactory,
    SharedLedgerFactory,
    TransactionFactory,
    add_member,
)

pytestmark = pytest.mark.django_db

TRANSACTION_VALUES = value_columns(TransactionSerializer)


def rows_for(owner) -> QuerySet:
    return transactions_for(user=owner).order_by("-date", "-id").values(*TRANSACTION_VALUES)


def page(rows: QuerySet) -> list:
    return list(rows[1:3])


def sent(run) -> tuple[list[str], object]:
    with CaptureQueriesContext(connection) as queries:
        result = run()
    return [query["sql"] for query in queries.captured_queries], result


@pytest.fixture
def owners():
    """Two users, each with rows in their personal ledger, and a ledger of the first's that the
    second views: each is in two ledgers, so that a user's scope is a list of two ids (and an id's
    a subquery of their memberships)."""
    first, second = UserFactory(), UserFactory()
    food = CategoryFactory(owner=first, name="Food")
    for day, amount in enumerate(["0.01", "12.50", "9999999999.99", "3"], start=1):
        TransactionFactory(
            owner=first, amount=Decimal(amount), date=datetime.date(2026, 1, day), category=food
        )
    TransactionFactory(owner=first, type=TransactionType.INCOME, amount=Decimal("7.77"))
    TransactionFactory(owner=second, description="not yours")
    shared = SharedLedgerFactory(owner=first, name="Shared")
    add_member(shared, second, Role.VIEWER)
    TransactionFactory(
        account=shared.accounts.get(),
        created_by=first,
        description="shared",
        date=datetime.date(2026, 2, 1),
        category=CategoryFactory(ledger=shared, name="Home"),
    )
    return first, second


class TestStatement:
    def test_it_sends_the_querysets_own_sql_and_gives_its_rows(self, owners):
        first, _ = owners
        statement = IdStatement(rows_for(PLACEHOLDER), page, columns=rows_for(PLACEHOLDER))
        # The queryset of the id (its ledgers a subquery)...
        orm_sql, expected = sent(lambda: page(rows_for(first.pk)))
        our_sql, rows = sent(lambda: statement.rows(first.pk))
        assert our_sql == orm_sql
        assert [dict(zip(TRANSACTION_VALUES, row, strict=True)) for row in rows] == expected
        # ...gives the rows of the user's (their ledgers a list read beforehand).
        assert expected == page(rows_for(first))
        # Converted as the ORM converts them, on every database.
        assert {type(rows[0][TRANSACTION_VALUES.index(name)]) for name in ("amount", "date")} == {
            Decimal,
            datetime.date,
        }

    def test_each_id_gets_only_the_rows_of_its_ledgers(self, owners):
        first, second = owners
        statement = IdStatement(rows_for(PLACEHOLDER), list, columns=rows_for(PLACEHOLDER))
        assert len(statement.rows(first.pk)) == 6
        assert [row[2] for row in statement.rows(second.pk)] == ["not yours", "shared"]
        assert statement.rows(UserFactory().pk) == []  # a personal ledger without rows
        assert statement.rows(second.pk + 1000) == []

    def test_a_count(self, owners):
        first, second = owners
        statement = IdStatement(rows_for(PLACEHOLDER), QuerySet.count)
        assert statement.rows(first.pk) == [(6,)]
        assert statement.rows(second.pk) == [(2,)]
        assert sent(lambda: statement.rows(first.pk))[0] == sent(rows_for(first.pk).count)[0]
        assert rows_for(first).count() == 6 and rows_for(second).count() == 2

    def test_preparing_sends_nothing_to_the_database(self):
        sql, _ = sent(lambda: IdStatement(rows_for(PLACEHOLDER), QuerySet.count))
        assert sql == []

    @pytest.mark.parametrize(
        "queryset",
        [
            lambda: rows_for(UserFactory()),  # no placeholder: nothing would vary
            lambda: rows_for(PLACEHOLDER).filter(category__ledger=PLACEHOLDER),  # two
        ],
        ids=["none", "two"],
    )
    def test_it_needs_exactly_one_placeholder(self, queryset):
        with pytest.raises(ValueError, match="one placeholder"):
            IdStatement(queryset(), list)

    def test_a_queryset_that_sends_nothing_is_refused(self):
        with pytest.raises(ValueError, match="sent no statement"):
            IdStatement(rows_for(PLACEHOLDER), lambda rows: list(rows[0:0]))


class TestUserById:
    def test_it_gives_what_get_gives_with_the_same_sql(self, owners):
        first, _ = owners
        orm_sql, expected = sent(lambda: User.objects.get(pk=first.pk))
        our_sql, user = sent(lambda: user_by_id(user_id=first.pk))
        assert our_sql == orm_sql
        assert isinstance(user, User)
        fields = [field.attname for field in User._meta.concrete_fields]
        assert [getattr(user, name) for name in fields] == [
            getattr(expected, name) for name in fields
        ]
        assert (user._state.db, user._state.adding) == ("default", False)

    def test_an_unknown_id_is_none(self, owners):
        assert user_by_id(user_id=max(user.pk for user in owners) + 1) is None

    def test_a_model_statement_must_select_every_column(self):
        with pytest.raises(ValueError, match="every column"):
            ModelStatement(User.objects.filter(pk=PLACEHOLDER).only("email"), QuerySet.get)


class TestShapedStatements:
    def statement(self, statements, rows):
        make = lambda: Statement(rows, list, columns=rows)  # noqa: E731
        return statements.statement(rows, where_clause(rows), "page", make)

    def test_the_same_filters_with_other_values_share_a_statement(self, owners):
        first, second = owners
        statements = ShapedStatements(size=8)
        paris = rows_for(first).filter(description__icontains="transaction")
        lyon = rows_for(second).filter(description__icontains="yours")
        statement = self.statement(statements, paris)
        assert self.statement(statements, lyon) is statement
        for rows in (paris, lyon):
            answer = statement.execute(where_clause(rows)[1])
            assert [dict(zip(TRANSACTION_VALUES, row, strict=True)) for row in answer] == list(rows)
        assert self.statement(statements, paris.filter(amount__gt=0)) is not statement

    def test_constants_outside_the_where_clause_stay_and_its_parameters_change(self, owners):
        statements = ShapedStatements(size=8)

        def annotated(owner) -> QuerySet:
            # SELECT %s AS "five": a parameter before the WHERE clause's
            return rows_for(owner).annotate(five=Value(5, output_field=IntegerField()))

        kept = None
        for owner in owners:
            rows = annotated(owner)
            where = where_clause(rows)
            statement = statements.statement(
                rows, where, "rows", lambda rows=rows: Statement(rows, list, columns=rows)
            )
            assert statement is not None and statement is (kept or statement)
            kept = statement
            answer = [list(row) for row in statement.execute_where(where[1])]
            assert answer == [list(row.values()) for row in rows]
            assert statement.execute_where(where[1])  # the owner's rows are there to be found

    def test_where_parameters_found_twice_are_never_kept(self, owners):
        statements = ShapedStatements(size=8)
        # A constant equal to the WHERE clause's parameter: which one varies is not known.
        rows = Transaction.objects.filter(pk=7).values("id")
        rows = rows.annotate(same=Value(7, output_field=IntegerField()))
        where = where_clause(rows)
        assert where[1] == [7]
        assert statements.statement(rows, where, "rows", lambda: Statement(rows, list)) is None

    def test_a_where_clause_that_matches_nothing_is_none(self, owners):
        assert where_clause(rows_for(owners[0]).filter(id__in=[])) is None

    def test_it_keeps_at_most_its_size(self, owners):
        statements = ShapedStatements(size=2)
        for field in ("description", "type", "date"):
            rows = rows_for(owners[0]).filter(**{field: "x" if field != "date" else "2026-01-01"})
            self.statement(statements, rows)
        assert len(statements.entries) == 1


class TestTheFence:
    @pytest.mark.parametrize("library", sorted(fastpaths.WRITTEN_FOR))
    def test_written_for_the_installed_release(self, library):
        # On a new release: read the fast paths on it (cashman_site/fastpaths/) against its
        # code, run their tests, re-measure them (bench/README.md), then raise WRITTEN_FOR.
        assert fastpaths.written_for(library), (
            f"The fast paths on {library} were written for {fastpaths.WRITTEN_FOR[library]}, "
            f"not {fastpaths.INSTALLED[library]}: they are off until checked."
        )

    def test_the_installed_django_is_read(self):
        assert fastpaths.INSTALLED["django"][:2] == django.VERSION[:2]

    def test_on_another_release_every_caller_takes_the_plain_path(
        self, owners, monkeypatch, auth_client, user
    ):
        TransactionFactory(owner=user)
        urls = ["/api/v1/transactions/", "/api/v1/summary/", "/api/v1/summary/monthly/"]
        fast = [auth_client.get(url).json() for url in urls]
        monkeypatch.setitem(fastpaths.WRITTEN_FOR, "django", (4, 2))
        assert not fastpaths.enabled()
        fastpaths._forget()
        assert [auth_client.get(url).json() for url in urls] == fast
        assert fastpaths._by_pk.cache_info().currsize == 0
        assert not fastpaths._LISTS.entries

    def test_the_setting_turns_them_off(self, settings):
        assert fastpaths.enabled()
        settings.CASHMAN_FAST_PATHS = False
        assert not fastpaths.enabled()


class TestEqualToThePlainPath:
    """Each fast path, and the ORM call it stands for, on the same rows."""

    def both(self, settings, answer):
        fast = answer()
        settings.CASHMAN_FAST_PATHS = False
        plain = answer()
        settings.CASHMAN_FAST_PATHS = True
        return fast, plain

    def test_get_by_pk(self, owners, settings):
        for pk in (owners[0].pk, owners[1].pk, 0, 2**40):
            fast, plain = self.both(settings, lambda pk=pk: fastpaths.get_by_pk(User, pk))
            assert (fast is None) == (plain is None)
            if fast is not None:
                fields = [f.attname for f in User._meta.concrete_fields]
                assert [getattr(fast, f) for f in fields] == [getattr(plain, f) for f in fields]
                assert not fast._state.adding and fast._state.db == plain._state.db

    @pytest.mark.parametrize(
        "summary",
        [selectors.summary_total, selectors.summary_monthly, selectors.summary_by_category],
    )
    @pytest.mark.parametrize(
        "dates",
        [(None, None), (datetime.date(2026, 1, 15), None), (None, datetime.date(2026, 3, 1))],
    )
    def test_summaries_of_the_rollups(self, owners, settings, summary, dates):
        for owner in (*owners, UserFactory()):
            rollups = selectors.RollupSet(owner, None, None, *dates)
            fast, plain = self.both(settings, lambda r=rollups: summary(transactions=r))
            assert fast == plain
            assert str(fast) == str(plain)  # the same types: Decimal, int, str
        count = self.both(settings, lambda: selectors.RollupSet(owners[0]).count())
        assert count[0] == count[1] == rows_for(owners[0]).count()
        # Each read kept its statement: none was refused for its parameters.
        assert fastpaths._SUMS.entries and None not in fastpaths._SUMS.entries.values()

    def test_list_rows(self, owners, settings):
        rows = rows_for(owners[0])
        for low, high in [(0, 2), (1, 3), (3, 50), (9, 10), (2, 2)]:
            fast = fastpaths.list_rows(rows)
            assert isinstance(fast, fastpaths.ListRows)
            assert fast[low:high] == list(rows[low:high])
            assert fast.count() == rows.count() == 6
        settings.CASHMAN_FAST_PATHS = False
        assert fastpaths.list_rows(rows) is rows

    def test_list_rows_only_for_values_of_columns(self, owners):
        instances = transactions_for(user=owners[0])
        assert fastpaths.list_rows(instances) is instances
        annotated = rows_for(owners[0]).annotate(five=Value(5, output_field=IntegerField()))
        assert fastpaths.list_rows(annotated) is annotated


class TestTheScopeOfAnIdAndOfAUser:
    """`scope.visible` and `scope.writable` name a user's ledgers as a list of ids read
    beforehand for a user, and as a subquery of their memberships for an id (the fast paths'
    placeholder): both give the same rows, of every model the scope covers."""

    MODELS = [Ledger, Membership, Account, Category, Transaction, Transaction.history.model]

    @pytest.fixture
    def people(self, owners):
        first, second = owners
        editor, outsider = UserFactory(), UserFactory()
        add_member(Ledger.objects.get(name="Shared"), editor, Role.EDITOR)
        return [first, second, editor, outsider]

    @pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
    @pytest.mark.parametrize("rule", [scope.visible, scope.writable], ids=lambda r: r.__name__)
    def test_the_same_rows(self, people, model, rule):
        seen = []
        for person in people:
            by_user = list(rule(model.objects.all(), person).order_by("pk").values_list("pk"))
            by_id = list(rule(model.objects.all(), person.pk).order_by("pk").values_list("pk"))
            assert by_user == by_id
            seen.append(len(by_id))
        assert any(seen)  # the rows are there to be found

    def test_a_viewer_sees_what_they_cannot_write(self, people):
        _, viewer, editor, _ = people
        shared = Transaction.objects.filter(ledger__name="Shared")
        for rows in (shared, shared.values("pk")):
            assert scope.visible(rows, viewer.pk).count() == 1
            assert scope.writable(rows, viewer.pk).count() == 0
            assert scope.writable(rows, editor.pk).count() == 1
            assert scope.writable(rows, viewer).count() == 0

    def test_the_list_rows_of_a_shared_ledgers_members(self, people):
        for person in people:
            rows = rows_for(person)
            assert list(rows) == list(rows_for(person.pk))
