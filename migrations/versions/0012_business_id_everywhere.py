"""business_id everywhere: every table that grows with a business names it (issue #13)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 13:20:00.000000

Nine tables reached their business only through a parent row. Each gets
``business_id`` (NOT NULL, a foreign key to businesses), backfilled from that parent,
and its unique keys and hot indexes now lead with it: one PostgreSQL can later be
sharded by business (Citus wants the distribution column in every unique key), and a
business's export, deletion or report reads its rows by index.

Two global unique keys stay global on purpose: ``customer_sessions.token_hash`` and
``push_subscriptions.endpoint`` are looked up before the business is known (a cookie,
a browser's push address). Apple asks for a device's passes without naming a business,
so ``pass_registrations`` gets an index on ``device_id`` alone for that lookup.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# The backfill updates rows of append-only tables, which their triggers refuse
# (0001 for the ledger, 0005 for consents); SQLite also drops a table's triggers when
# batch mode rebuilds it. So they are dropped first and created again at the end.
APPEND_ONLY = ("transfers", "entries", "consents")

# Each table and where its business comes from (portable correlated subqueries).
BACKFILL = {
    "transfers": "SELECT o.business_id FROM operations o WHERE o.id = transfers.operation_id",
    "entries": "SELECT a.business_id FROM accounts a WHERE a.id = entries.account_id",
    "consents": "SELECT c.business_id FROM customers c WHERE c.id = consents.customer_id",
    "customer_sessions": (
        "SELECT c.business_id FROM customers c WHERE c.id = customer_sessions.customer_id"
    ),
    "push_subscriptions": (
        "SELECT c.business_id FROM customers c WHERE c.id = push_subscriptions.customer_id"
    ),
    "push_reminders": (
        "SELECT c.business_id FROM customers c WHERE c.id = push_reminders.customer_id"
    ),
    "checkin_uses": "SELECT c.business_id FROM customers c WHERE c.id = checkin_uses.customer_id",
    "pass_registrations": (
        "SELECT p.business_id FROM wallet_passes p WHERE p.id = pass_registrations.pass_id"
    ),
    "staff_branches": "SELECT s.business_id FROM staff_users s WHERE s.id = staff_branches.staff_id",
}

# (table, kind, name, old columns, new columns); kind is "index" or "unique".
KEYS = [
    ("transfers", "index", "ix_transfers_operation_id", ["operation_id"], None),
    ("transfers", "index", "ix_transfers_lot_id", ["lot_id"], None),
    ("transfers", "index", "ix_transfers_business_operation", None,
     ["business_id", "operation_id"]),
    ("transfers", "index", "ix_transfers_business_lot", None, ["business_id", "lot_id"]),
    ("entries", "unique", "uq_entries_transfer_id_account_id", ["transfer_id", "account_id"],
     None),
    ("entries", "unique", "uq_entries_business_id_transfer_id_account_id", None,
     ["business_id", "transfer_id", "account_id"]),
    ("entries", "index", "ix_entries_account_id", ["account_id"], None),
    ("entries", "index", "ix_entries_business_account", None, ["business_id", "account_id"]),
    ("consents", "index", "ix_consents_customer", ["customer_id", "kind", "id"],
     ["business_id", "customer_id", "kind", "id"]),
    ("customer_sessions", "index", "ix_customer_sessions_customer",
     ["customer_id", "created_at"], ["business_id", "customer_id", "created_at"]),
    ("push_subscriptions", "index", "ix_push_subscriptions_customer", ["customer_id"],
     ["business_id", "customer_id"]),
    ("push_subscriptions", "index", "ix_push_subscriptions_session", ["session_id"],
     ["business_id", "session_id"]),
    ("push_reminders", "unique", "uq_push_reminders_customer_id_kind_ref",
     ["customer_id", "kind", "ref"], None),
    ("push_reminders", "unique", "uq_push_reminders_business_id_customer_id_kind_ref", None,
     ["business_id", "customer_id", "kind", "ref"]),
    ("checkin_uses", "unique", "uq_checkin_uses_customer_id_step", ["customer_id", "step"],
     None),
    ("checkin_uses", "unique", "uq_checkin_uses_business_id_customer_id_step", None,
     ["business_id", "customer_id", "step"]),
    ("pass_registrations", "unique", "uq_pass_registrations_device_id_pass_id",
     ["device_id", "pass_id"], None),
    ("pass_registrations", "unique", "uq_pass_registrations_business_id_device_id_pass_id",
     None, ["business_id", "device_id", "pass_id"]),
    ("pass_registrations", "index", "ix_pass_registrations_pass", ["pass_id"],
     ["business_id", "pass_id"]),
    ("pass_registrations", "index", "ix_pass_registrations_device", None, ["device_id"]),
]

STAFF_BRANCHES_KEY = {"old": ["staff_id", "branch_id"],
                      "new": ["business_id", "staff_id", "branch_id"]}


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _drop_triggers() -> None:
    for table in APPEND_ONLY:
        if _postgresql():
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        else:
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")


def _create_triggers() -> None:
    # The same statements as 0001 and 0005 (the PostgreSQL function stays in place).
    for table in APPEND_ONLY:
        if _postgresql():
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION regulars_append_only()"
            )
            continue
        prefix = "ledger table" if table != "consents" else "table"
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}"
                f" BEGIN SELECT RAISE(ABORT, '{prefix} {table} is append-only:"
                f" {action} refused'); END"
            )


def _swap_keys(batch_op, table: str, old: int, new: int) -> None:
    """Drop the keys of ``table`` in column set ``old`` and create those in ``new``
    (0: before this migration, 1: after it)."""
    for name_table, kind, name, *columns in KEYS:
        if name_table != table or columns[old] is None:
            continue
        if kind == "index":
            batch_op.drop_index(name)
        else:
            batch_op.drop_constraint(name, type_="unique")
    for name_table, kind, name, *columns in KEYS:
        if name_table != table or columns[new] is None:
            continue
        if kind == "index":
            batch_op.create_index(name, columns[new], unique=False)
        else:
            batch_op.create_unique_constraint(name, columns[new])


def upgrade():
    _drop_triggers()
    for table, parent in BACKFILL.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("business_id", sa.Integer(), nullable=True))
        op.execute(f"UPDATE {table} SET business_id = ({parent})")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("business_id", existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_business_id_businesses"), "businesses",
                ["business_id"], ["id"],
            )
            if table == "staff_branches":
                batch_op.drop_constraint("pk_staff_branches", type_="primary")
                batch_op.create_primary_key("pk_staff_branches", STAFF_BRANCHES_KEY["new"])
            _swap_keys(batch_op, table, old=0, new=1)
    _create_triggers()


def downgrade():
    _drop_triggers()
    for table in reversed(list(BACKFILL)):
        with op.batch_alter_table(table, schema=None) as batch_op:
            _swap_keys(batch_op, table, old=1, new=0)
            if table == "staff_branches":
                batch_op.drop_constraint("pk_staff_branches", type_="primary")
                batch_op.create_primary_key("pk_staff_branches", STAFF_BRANCHES_KEY["old"])
            batch_op.drop_constraint(
                batch_op.f(f"fk_{table}_business_id_businesses"), type_="foreignkey"
            )
            batch_op.drop_column("business_id")
    _create_triggers()
