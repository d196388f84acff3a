import datetime
from decimal import Decimal

import factory

from accounts.tests.factories import UserFactory
from ledger import services
from ledger.choices import Role, TransactionType
from ledger.models import Account, Category, Ledger, Membership, Transaction
from ledger.services import unit_of_work


def personal_ledger(user) -> Ledger:
    return services.personal_ledger(user=user)


def main_account(user) -> Account:
    """The user's default account: their personal ledger's "Main"."""
    return services.default_account(user=user)


class LedgerRowFactory(factory.django.DjangoModelFactory):
    """Saves its rows as the services do, in a unit of work (ledger.services). `owner=user`
    stands for the user's personal ledger (and its "Main" account)."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with unit_of_work(kwargs["ledger"].pk):
            return super()._create(model_class, *args, **kwargs)


class SharedLedgerFactory(factory.django.DjangoModelFactory):
    """A ledger made to share, with `owner` as its owner and a "Main" account."""

    class Meta:
        model = Ledger

    name = factory.Sequence(lambda n: f"Household {n}")

    @classmethod
    def _create(cls, model_class, *args, owner=None, **kwargs):
        return services.ledger_create(user=owner or UserFactory(), name=kwargs["name"])


def add_member(ledger: Ledger, user, role: str = Role.EDITOR) -> Membership:
    """Put `user` in `ledger` with `role`, as an accepted invitation would."""
    with unit_of_work() as unit:
        membership = Membership.objects.create(ledger=ledger, user=user, role=role)
        unit.members_changed(user.pk)
    return membership


class AccountFactory(LedgerRowFactory):
    class Meta:
        model = Account

    class Params:
        owner = None

    ledger = factory.LazyAttribute(lambda o: personal_ledger(o.owner or UserFactory()))
    name = factory.Sequence(lambda n: f"Account {n}")


class CategoryFactory(LedgerRowFactory):
    class Meta:
        model = Category

    class Params:
        owner = None

    ledger = factory.LazyAttribute(lambda o: personal_ledger(o.owner or UserFactory()))
    name = factory.Sequence(lambda n: f"Category {n}")


class TransactionFactory(LedgerRowFactory):
    """A transaction saved as the service would: expenses negative, incomes positive. `owner`
    puts it in the user's "Main" account; `account` in that one."""

    class Meta:
        model = Transaction

    class Params:
        owner = None

    account = factory.LazyAttribute(lambda o: main_account(o.owner or UserFactory()))
    ledger = factory.LazyAttribute(lambda o: o.account.ledger)
    created_by = factory.LazyAttribute(lambda o: o.owner)
    type = TransactionType.EXPENSE
    description = factory.Sequence(lambda n: f"Transaction {n}")
    amount = Decimal("10.00")
    date = factory.LazyFunction(lambda: datetime.date(2026, 11, 1))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        amount = abs(kwargs["amount"])
        kwargs["amount"] = amount if kwargs["type"] == TransactionType.INCOME else -amount
        return super()._create(model_class, *args, **kwargs)
