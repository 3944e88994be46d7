"""adjustment requests: the system rejects a closed account's pending requests

A rejection may have no staff member (decided_by NULL): the system rejected it when
the customer's account was closed. An approval always names the owner.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 10:00:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLE = "adjustment_requests"
NAME = "decided"
BEFORE = (
    "(status = 'pending' AND decided_by IS NULL AND decided_at IS NULL)"
    " OR (status <> 'pending' AND decided_by IS NOT NULL AND decided_at IS NOT NULL)"
)
AFTER = (
    "(status = 'pending' AND decided_by IS NULL AND decided_at IS NULL)"
    " OR (status = 'approved' AND decided_by IS NOT NULL AND decided_at IS NOT NULL)"
    " OR (status = 'rejected' AND decided_at IS NOT NULL)"
)


def upgrade():
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(f"ck_{TABLE}_{NAME}"), type_="check")
        batch_op.create_check_constraint(NAME, AFTER)


def downgrade():
    # A system rejection has no staff member to put back: it cannot go down as it is.
    op.execute(f"DELETE FROM {TABLE} WHERE status = 'rejected' AND decided_by IS NULL")
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(f"ck_{TABLE}_{NAME}"), type_="check")
        batch_op.create_check_constraint(NAME, BEFORE)
