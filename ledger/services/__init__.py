"""Every write of the ledger: the API, the admin, imports and the commands alike. Nothing else
writes a transaction, a category or an idempotency record (`ledger/tests/test_writes.py`).

Each write is one unit of work (`unit_of_work`): a database transaction that ends the cached
answers of the users whose ledger it changed, before it commits. By subject: `transactions`,
`categories`, `bulk` (batches and imports), `idempotency` (the answers of Idempotency-Key
requests), `households` (ledgers, members, invitations), `accounts` (and reconciliation),
`transfers`. Callers import this package (`from ledger import services`) and use the names below.
"""

from ledger.services.accounts import (
    account_create,
    account_delete,
    account_reconcile,
    account_save,
    account_update,
)
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
from ledger.services.households import PERSONAL_NAME as PERSONAL_LEDGER_NAME
from ledger.services.households import (
    default_account,
    invitation_accept,
    invitation_create,
    invitation_decline,
    invitation_revoke,
    invitation_token,
    ledger_create,
    ledger_delete,
    ledger_rows_save,
    ledger_save,
    ledger_update,
    ledgers_of_departing_user,
    member_remove,
    member_update,
    personal_ledger,
    personal_ledger_of,
    transfers_of_ledger_delete,
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
from ledger.services.transfers import transfer_create, transfer_delete, transfer_update
from ledger.services.unit_of_work import unit_of_work

__all__ = [
    "PERSONAL_LEDGER_NAME",
    "CategoryCache",
    "account_create",
    "account_delete",
    "account_reconcile",
    "account_save",
    "account_update",
    "category_create",
    "category_delete",
    "category_delete_many",
    "category_save",
    "category_update",
    "default_account",
    "invitation_accept",
    "invitation_create",
    "invitation_decline",
    "invitation_revoke",
    "invitation_token",
    "ledger_clear",
    "ledger_create",
    "ledger_delete",
    "ledger_rows_save",
    "ledger_save",
    "ledger_update",
    "ledgers_of_departing_user",
    "member_remove",
    "member_update",
    "personal_ledger",
    "personal_ledger_of",
    "transaction_create",
    "transaction_delete",
    "transaction_delete_many",
    "transaction_restore",
    "transaction_save",
    "transaction_update",
    "transactions_batch_create",
    "transactions_insert",
    "transfer_create",
    "transfer_delete",
    "transfer_update",
    "transfers_of_ledger_delete",
    "unit_of_work",
]
