"""Writes of categories."""

from django.db.models.functions import Lower

from accounts.models import User
from ledger import scope
from ledger.models import Category, Ledger
from ledger.services.transactions import conditional_update, lock_at_version
from ledger.services.unit_of_work import unit_of_work


def category_create(
    *, actor: User, name: str, ledger: Ledger | None = None, rollover: bool = False
) -> Category:
    """A category of `ledger` (the actor's personal ledger if None). With `rollover`, what is
    left of (or overspent on) its budget carries into the next month (`selectors.budgets`)."""
    if ledger is None:
        from ledger.services.households import personal_ledger  # it writes with these

        ledger = personal_ledger(user=actor)
    else:
        scope.require_write(actor, ledger.pk)
    category = Category(ledger=ledger, name=name, rollover=rollover)
    category.full_clean()
    with unit_of_work(ledger.pk):
        category.save()
    return category


def category_update(
    *,
    category: Category,
    name: str | None = None,
    rollover: bool | None = None,
    if_version: int | None = None,
    actor: User | None = None,
) -> Category:
    """Change the fields given; a PATCH that gives none changes nothing."""
    if actor is not None:
        scope.require_write(actor, category.ledger_id)
    if name is None and rollover is None:
        return category
    if name is not None:
        category.name = name
    if rollover is not None:
        category.rollover = rollover
    category.full_clean()
    values: dict[str, object] = {"name": category.name} if name is not None else {}
    if rollover is not None:
        values["rollover"] = category.rollover
    with unit_of_work(category.ledger_id):
        conditional_update(category, values, if_version)
    return category


def category_delete(
    *, category: Category, if_version: int | None = None, actor: User | None = None
) -> None:
    """The category's transactions stay, without a category (the foreign key is SET_NULL)."""
    if actor is not None:
        scope.require_write(actor, category.ledger_id)
    with unit_of_work(category.ledger_id):
        lock_at_version(category, if_version).delete()


def category_save(*, category: Category) -> None:
    """Save a category as the admin's form changed it."""
    before = Category.objects.filter(pk=category.pk).values_list("ledger_id", flat=True)
    with unit_of_work(category.ledger_id, *before):
        category.save()


def category_delete_many(*, categories) -> None:
    """Delete these categories (the admin's bulk delete); their transactions stay, uncategorised."""
    with unit_of_work(*set(categories.values_list("ledger_id", flat=True))):
        categories.delete()


class CategoryCache:
    """A ledger's categories by case-folded name, created on first use (imports)."""

    def __init__(self, ledger_id: int) -> None:
        self.ledger_id = ledger_id
        self._by_name = {c.name.casefold(): c for c in Category.objects.filter(ledger_id=ledger_id)}

    def get(self, name: str | None, *, create: bool) -> Category | None:
        name = (name or "").strip()
        if not name:
            return None
        category = self._by_name.get(name.casefold())
        if category is None and create:
            category = (
                Category.objects.filter(ledger_id=self.ledger_id)
                .annotate(lower=Lower("name"))
                .filter(lower=name.lower())
                .first()
            )
            if category is None:
                category = Category(ledger_id=self.ledger_id, name=name[:100])
                with unit_of_work(self.ledger_id):
                    category.save()
            self._by_name[name.casefold()] = category
        return category
