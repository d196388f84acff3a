"""What every row of a ledger shares: the money's precision, the sign rule, versions, and the
guard that keeps their writes inside a unit of work."""

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from ledger.choices import TransactionType

# Up to 999,999,999,999.99: more than any household moves.
AMOUNT_MAX_DIGITS = 14
AMOUNT_DECIMAL_PLACES = 2


def signed_amount(type_: str, amount: Decimal) -> Decimal:
    """The sign rule, the one place it lives.

    An income must be positive; an expense is stored negative whatever sign it was given, and may
    not be zero; a transfer's leg keeps its sign (out negative, in positive) and may not be zero. The database's CheckConstraint holds the same rule for every other path.
    """
    if type_ == TransactionType.TRANSFER:
        if amount == 0:
            raise ValidationError({"amount": "A transfer cannot be zero."})
        return amount
    if type_ == TransactionType.INCOME:
        if amount <= 0:
            raise ValidationError({"amount": "An income must be a positive amount."})
        return amount
    if amount == 0:
        raise ValidationError({"amount": "An expense cannot be zero."})
    return -abs(amount)


def bump_version(instance: models.Model, save_kwargs: dict) -> None:
    """A save() of an existing row (the admin's, say) is a write too: it gets a new version.

    The API's conditional writes do not come through here: they are one UPDATE ... WHERE
    version = n in the services.
    """
    if not instance._state.adding:
        instance.version += 1  # type: ignore[attr-defined]
        if save_kwargs.get("update_fields") is not None:
            save_kwargs["update_fields"] = [*save_kwargs["update_fields"], "version"]


class LedgerRowQuerySet(models.QuerySet):
    """Writes of many rows at once, refused outside a unit of work as a row's own are. (The
    cascades of a deleted user or category write through Django's collector, not these.)"""

    def update(self, **kwargs: Any) -> int:
        _require_unit_of_work()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        _require_unit_of_work()
        return super().delete()

    def bulk_create(self, *args: Any, **kwargs: Any) -> list:
        _require_unit_of_work()
        return super().bulk_create(*args, **kwargs)

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        _require_unit_of_work()
        return super().bulk_update(*args, **kwargs)


class LedgerRow(models.Model):
    """A row of a ledger (a transaction, a category, an account): saved and deleted only inside a
    unit of work (`ledger.services`), which ends the cached answers of the ledger's members."""

    objects = LedgerRowQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        _in_unit_of_work(self)
        bump_version(self, kwargs)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs) -> Any:
        _in_unit_of_work(self)
        return super().delete(*args, **kwargs)


def _require_unit_of_work() -> Any:
    from ledger.services.unit_of_work import require  # the services import the models

    return require()


def _in_unit_of_work(row: models.Model) -> None:
    _require_unit_of_work().changed(row.ledger_id)  # type: ignore[attr-defined]


def today() -> datetime.date:
    return timezone.localdate()
