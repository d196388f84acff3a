"""Writes of categories."""

from django.db.models.functions import Lower

from accounts.models import User
from ledger import scope
from ledger.models import Category
from ledger.services.transactions import conditional_update, lock_at_version
from ledger.services.unit_of_work import unit_of_work


def category_create(*, owner: User, name: str) -> Category:
    category = Category(owner=owner, name=name)
    category.full_clean()
    with unit_of_work(owner.pk):
        category.save()
    return category


def category_update(
    *, category: Category, name: str | None = None, if_version: int | None = None
) -> Category:
    """A PATCH may leave the name out: then nothing changes."""
    if name is None:
        return category
    category.name = name
    category.full_clean()
    with unit_of_work(category.owner_id):
        conditional_update(category, {"name": category.name}, if_version)
    return category


def category_delete(*, category: Category, if_version: int | None = None) -> None:
    """The category's transactions stay, without a category (the foreign key is SET_NULL)."""
    with unit_of_work(category.owner_id):
        lock_at_version(category, if_version).delete()


def category_save(*, category: Category) -> None:
    """Save a category as the admin's form changed it."""
    before = Category.objects.filter(pk=category.pk).values_list("owner_id", flat=True)
    with unit_of_work(category.owner_id, *before):
        category.save()


def category_delete_many(*, categories) -> None:
    """Delete these categories (the admin's bulk delete); their transactions stay, uncategorised."""
    with unit_of_work(*set(categories.values_list("owner_id", flat=True))):
        categories.delete()


class CategoryCache:
    """The owner's categories by case-folded name, created on first use (imports)."""

    def __init__(self, owner: User) -> None:
        self.owner = owner
        self._by_name = {c.name.casefold(): c for c in scope.visible(Category.objects.all(), owner)}

    def get(self, name: str | None, *, create: bool) -> Category | None:
        name = (name or "").strip()
        if not name:
            return None
        category = self._by_name.get(name.casefold())
        if category is None and create:
            category = (
                scope.visible(Category.objects.all(), self.owner)
                .annotate(lower=Lower("name"))
                .filter(lower=name.lower())
                .first()
            )
            if category is None:
                category = Category(owner=self.owner, name=name[:100])
                with unit_of_work(self.owner.pk):
                    category.save()
            self._by_name[name.casefold()] = category
        return category
