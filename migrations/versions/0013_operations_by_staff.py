"""operations by staff: the counter's staff-hour abuse count reads them by index

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 17:45:00.000000

The close's abuse check counts a staff member's accruals on orders in the last hour.
Without an index on ``operations.staff_id`` it walked the staff member's audit events
of the hour (``ix_audit_events_staff``) and joined each to its operation, then
de-duplicated them before its LIMIT: every close read all of the hour's events (2,000
rows, 2.4 ms of PostgreSQL per close after 2,000 closes by one cashier). This index
leads with ``business_id`` like the other hot indexes (0012) and lets the count stop
at its cap.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_operations_staff_created", ["business_id", "staff_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_index("ix_operations_staff_created")
