"""The database's side of "a transaction's account and category are in its ledger": Django has no
composite foreign keys, so a trigger on each backend does what one would. It refuses an insert or
update of a transaction whose account or category is in another ledger, and a move of a category
or an account into another ledger while transactions of the old one use it.

They replace the category-owner triggers of 0004, which named the owner column.
"""

import importlib

_0004 = importlib.import_module("ledger.migrations.0004_category_owner_trigger")

POSTGRES_FORWARD = """
CREATE FUNCTION ledger_transaction_in_ledger() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM ledger_account a WHERE a.id = NEW.account_id AND a.ledger_id = NEW.ledger_id
    ) THEN
        RAISE EXCEPTION 'account % is not in ledger %', NEW.account_id, NEW.ledger_id
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.category_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM ledger_category c WHERE c.id = NEW.category_id AND c.ledger_id = NEW.ledger_id
    ) THEN
        RAISE EXCEPTION 'category % is not in ledger %', NEW.category_id, NEW.ledger_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_transaction_in_ledger
    BEFORE INSERT OR UPDATE OF category_id, account_id, ledger_id ON ledger_transaction
    FOR EACH ROW EXECUTE FUNCTION ledger_transaction_in_ledger();

CREATE FUNCTION ledger_row_ledger_change() RETURNS trigger AS $$
BEGIN
    IF NEW.ledger_id <> OLD.ledger_id AND EXISTS (
        SELECT 1 FROM ledger_transaction t
        WHERE (t.category_id = NEW.id AND TG_TABLE_NAME = 'ledger_category'
               OR t.account_id = NEW.id AND TG_TABLE_NAME = 'ledger_account')
          AND t.ledger_id <> NEW.ledger_id
    ) THEN
        RAISE EXCEPTION '% % is used by transactions of another ledger', TG_TABLE_NAME, NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_category_ledger_change
    BEFORE UPDATE OF ledger_id ON ledger_category
    FOR EACH ROW EXECUTE FUNCTION ledger_row_ledger_change();
CREATE TRIGGER ledger_account_ledger_change
    BEFORE UPDATE OF ledger_id ON ledger_account
    FOR EACH ROW EXECUTE FUNCTION ledger_row_ledger_change();
"""

POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS ledger_account_ledger_change ON ledger_account;
DROP TRIGGER IF EXISTS ledger_category_ledger_change ON ledger_category;
DROP FUNCTION IF EXISTS ledger_row_ledger_change();
DROP TRIGGER IF EXISTS ledger_transaction_in_ledger ON ledger_transaction;
DROP FUNCTION IF EXISTS ledger_transaction_in_ledger();
"""

_SQLITE_CHECK = """
WHEN NOT EXISTS (
    SELECT 1 FROM ledger_account a WHERE a.id = NEW.account_id AND a.ledger_id = NEW.ledger_id
) OR (NEW.category_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM ledger_category c WHERE c.id = NEW.category_id AND c.ledger_id = NEW.ledger_id
))
BEGIN SELECT RAISE(ABORT, 'account or category is not in the ledger'); END;
"""


def _sqlite_move(table: str, column: str) -> str:
    return f"""CREATE TRIGGER {table}_ledger_change BEFORE UPDATE OF ledger_id ON {table}
    WHEN NEW.ledger_id <> OLD.ledger_id AND EXISTS (
        SELECT 1 FROM ledger_transaction t
        WHERE t.{column} = NEW.id AND t.ledger_id <> NEW.ledger_id
    )
    BEGIN SELECT RAISE(ABORT, 'used by transactions of another ledger'); END;"""


SQLITE_FORWARD = [
    "CREATE TRIGGER ledger_transaction_in_ledger_insert BEFORE INSERT ON ledger_transaction"
    + _SQLITE_CHECK,
    "CREATE TRIGGER ledger_transaction_in_ledger_update"
    " BEFORE UPDATE OF category_id, account_id, ledger_id ON ledger_transaction" + _SQLITE_CHECK,
    _sqlite_move("ledger_category", "category_id"),
    _sqlite_move("ledger_account", "account_id"),
]

SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS ledger_transaction_in_ledger_insert",
    "DROP TRIGGER IF EXISTS ledger_transaction_in_ledger_update",
    "DROP TRIGGER IF EXISTS ledger_category_ledger_change",
    "DROP TRIGGER IF EXISTS ledger_account_ledger_change",
]

create_ledger_triggers = _0004._run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD})
drop_ledger_triggers = _0004._run({"postgresql": POSTGRES_REVERSE, "sqlite": SQLITE_REVERSE})
drop_owner_triggers = _0004._run(
    {"postgresql": _0004.POSTGRES_REVERSE, "sqlite": _0004.SQLITE_REVERSE}
)
create_owner_triggers = _0004._run(
    {"postgresql": _0004.POSTGRES_FORWARD, "sqlite": _0004.SQLITE_FORWARD}
)
