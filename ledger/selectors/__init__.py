"""Every read of the ledger, already scoped to one user, by subject: `transactions` (transactions,
categories and imports), `summaries` and `history`. Callers import this package
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
from ledger.selectors.summaries import (
    Cents,
    summary_by_category,
    summary_by_category_of,
    summary_monthly,
    summary_monthly_of,
    summary_total,
    summary_total_of,
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
    "summary_by_category_of",
    "summary_monthly",
    "summary_monthly_of",
    "summary_total",
    "summary_total_of",
    "transaction_history",
    "transaction_rows_for",
    "transactions_for",
    "transfers_for",
]
