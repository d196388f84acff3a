"""Every write of the ledger: the API, the admin, imports and the commands alike. Nothing else
writes a transaction, a category or an idempotency record (`ledger/tests/test_writes.py`).

Each write is one unit of work (`unit_of_work`): a database transaction that ends the cached
answers of the users whose ledger it changed, before it commits. By subject: `transactions`,
`categories`, `bulk` (batches and imports), `idempotency` (the answers of Idempotency-Key
requests). Callers import this package (`from ledger import services`) and use the names below.
"""

from ledger.services.bulk import insert as transactions_insert
from ledger.services.bulk import transactions_batch_create
from ledger.services.categories import (
    CategoryCache,
    category_create,
    category_delete,
    category_delete_many,
    category_save,
    category_update,
)
from ledger.services.transactions import (
    ledger_clear,
    transaction_create,
    transaction_delete,
    transaction_delete_many,
    transaction_restore,
    transaction_save,
    transaction_update,
)
from ledger.services.unit_of_work import unit_of_work

__all__ = [
    "CategoryCache",
    "category_create",
    "category_delete",
    "category_delete_many",
    "category_save",
    "category_update",
    "ledger_clear",
    "transaction_create",
    "transaction_delete",
    "transaction_delete_many",
    "transaction_restore",
    "transaction_save",
    "transaction_update",
    "transactions_batch_create",
    "transactions_insert",
    "unit_of_work",
]
