"""Every read of the ledger, already scoped to one user, by subject: `transactions` (transactions,
categories and imports), `summaries` (and the `rollups` they read) and `history`. Callers import this package
(`from ledger import selectors`) and use the names below."""

from ledger.selectors.history import transaction_history
from ledger.selectors.households import (
    account_rows_for,
    accounts_for,
    balance,
    invitations_for,
    invitations_of,
    invitations_to,
    ledger_rows_for,
    ledgers_for,
    members_of,
)
from ledger.selectors.rollups import RollupSet
from ledger.selectors.summaries import (
    Cents,
    summary_by_category,
    summary_monthly,
    summary_total,
)
from ledger.selectors.transactions import (
    categories_for,
    import_jobs_for,
    transaction_rows_for,
    transactions_for,
    transfers_for,
)

__all__ = [
    "Cents",
    "RollupSet",
    "account_rows_for",
    "accounts_for",
    "balance",
    "categories_for",
    "import_jobs_for",
    "invitations_for",
    "invitations_of",
    "invitations_to",
    "ledger_rows_for",
    "ledgers_for",
    "members_of",
    "summary_by_category",
    "summary_monthly",
    "summary_total",
    "transaction_history",
    "transaction_rows_for",
    "transactions_for",
    "transfers_for",
]
