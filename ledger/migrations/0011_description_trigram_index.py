"""A trigram index on the transactions' descriptions (PostgreSQL only), for `search=`.

Django's `icontains` is `UPPER(description::text) LIKE UPPER('%term%')`: no B-tree can serve it,
so a term found in few rows, or none, read every row of the ledger. The index is on that very
expression, so the planner uses it for rare terms and, from its statistics, keeps walking the
`(ledger, -date, -id)` index for common ones, which fill a page sooner. It needs the
expression's statistics: the migration gathers them (ANALYZE), as autovacuum does later on. `pg_trgm` ships with
PostgreSQL (contrib) and is a trusted extension: the database's owner may create it.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ledger_tx_description_trgm_idx ON ledger_transaction"
    " USING gin (UPPER(description::text) gin_trgm_ops)",
    # The statistics of the indexed expression, which tell a common term from a rare one:
    # without them the planner takes every term for rare, and reads a common one's every row
    # through the index instead of stopping at a page.
    "ANALYZE ledger_transaction",
]
REVERSE = ["DROP INDEX IF EXISTS ledger_tx_description_trgm_idx"]


def _on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("ledger", "0010_rollups")]

    operations = [migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(REVERSE))]
