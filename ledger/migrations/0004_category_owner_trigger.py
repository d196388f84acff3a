"""A transaction's category must belong to the transaction's owner: enforced by the database.

Django has no composite foreign keys, so a trigger on each backend does what one would: refuse an
insert or update of a transaction whose category is another user's, and a change of a category's
owner while transactions of the old owner use it.
"""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE FUNCTION ledger_transaction_category_owner() RETURNS trigger AS $$
BEGIN
    IF NEW.category_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM ledger_category c WHERE c.id = NEW.category_id AND c.owner_id = NEW.owner_id
    ) THEN
        RAISE EXCEPTION 'category % is not a category of user %', NEW.category_id, NEW.owner_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_transaction_category_owner
    BEFORE INSERT OR UPDATE OF category_id, owner_id ON ledger_transaction
    FOR EACH ROW EXECUTE FUNCTION ledger_transaction_category_owner();

CREATE FUNCTION ledger_category_owner_change() RETURNS trigger AS $$
BEGIN
    IF NEW.owner_id <> OLD.owner_id AND EXISTS (
        SELECT 1 FROM ledger_transaction t WHERE t.category_id = NEW.id AND t.owner_id <> NEW.owner_id
    ) THEN
        RAISE EXCEPTION 'category % is used by transactions of another user', NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_category_owner_change
    BEFORE UPDATE OF owner_id ON ledger_category
    FOR EACH ROW EXECUTE FUNCTION ledger_category_owner_change();
"""

POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS ledger_category_owner_change ON ledger_category;
DROP FUNCTION IF EXISTS ledger_category_owner_change();
DROP TRIGGER IF EXISTS ledger_transaction_category_owner ON ledger_transaction;
DROP FUNCTION IF EXISTS ledger_transaction_category_owner();
"""

_SQLITE_CHECK = """
WHEN NEW.category_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM ledger_category c WHERE c.id = NEW.category_id AND c.owner_id = NEW.owner_id
)
BEGIN SELECT RAISE(ABORT, 'category is not a category of the owner'); END;
"""

SQLITE_FORWARD = [
    "CREATE TRIGGER ledger_transaction_category_owner_insert BEFORE INSERT ON ledger_transaction"
    + _SQLITE_CHECK,
    "CREATE TRIGGER ledger_transaction_category_owner_update"
    " BEFORE UPDATE OF category_id, owner_id ON ledger_transaction" + _SQLITE_CHECK,
    """CREATE TRIGGER ledger_category_owner_change BEFORE UPDATE OF owner_id ON ledger_category
    WHEN NEW.owner_id <> OLD.owner_id AND EXISTS (
        SELECT 1 FROM ledger_transaction t WHERE t.category_id = NEW.id AND t.owner_id <> NEW.owner_id
    )
    BEGIN SELECT RAISE(ABORT, 'category is used by transactions of another user'); END;""",
]

SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS ledger_transaction_category_owner_insert",
    "DROP TRIGGER IF EXISTS ledger_transaction_category_owner_update",
    "DROP TRIGGER IF EXISTS ledger_category_owner_change",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise NotImplementedError(
                f"No category-owner trigger for {schema_editor.connection.vendor}."
            )
        for statement in [statements] if isinstance(statements, str) else statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_imports")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_REVERSE, "sqlite": SQLITE_REVERSE}),
        )
    ]
