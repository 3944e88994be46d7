"""adjustment requests: manual adjustments above the limit wait for the owner

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 08:40:33.910920

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLE = "adjustment_requests"


def upgrade():
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.Column("operation_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')", name=op.f(f"ck_{TABLE}_status")
        ),
        sa.CheckConstraint("points <> 0", name=op.f(f"ck_{TABLE}_points_not_zero")),
        # A decision has who and when; a pending request has neither.
        sa.CheckConstraint(
            "(status = 'pending' AND decided_by IS NULL AND decided_at IS NULL)"
            " OR (status <> 'pending' AND decided_by IS NOT NULL AND decided_at IS NOT NULL)",
            name=op.f(f"ck_{TABLE}_decided"),
        ),
        # Approved means exactly one ledger adjustment was written for it.
        sa.CheckConstraint(
            "(status = 'approved') = (operation_id IS NOT NULL)",
            name=op.f(f"ck_{TABLE}_approved_has_operation"),
        ),
        sa.CheckConstraint(
            "status <> 'rejected' OR length(decision_note) > 0",
            name=op.f(f"ck_{TABLE}_rejected_has_note"),
        ),
        sa.ForeignKeyConstraint(
            ["business_id"], ["businesses.id"], name=op.f(f"fk_{TABLE}_business_id_businesses")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f(f"fk_{TABLE}_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["staff_users.id"], name=op.f(f"fk_{TABLE}_requested_by_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["staff_users.id"], name=op.f(f"fk_{TABLE}_decided_by_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["operation_id"], ["operations.id"], name=op.f(f"fk_{TABLE}_operation_id_operations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
        sa.UniqueConstraint("operation_id", name=op.f(f"uq_{TABLE}_operation_id")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(
            "ix_adjustment_requests_status", ["business_id", "status", "requested_at"]
        )
        batch_op.create_index(
            "ix_adjustment_requests_customer", ["business_id", "customer_id", "requested_at"]
        )


def downgrade():
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index("ix_adjustment_requests_customer")
        batch_op.drop_index("ix_adjustment_requests_status")
    op.drop_table(TABLE)
