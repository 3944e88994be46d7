"""order lines: works and parts as lines, the business's categories, who took a consent

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 19:00:00.000000

An order becomes a document with lines (issue #14). Every existing order keeps its
total as one line: kind ``other``, its category, quantity 1, the order's discount, the
points its accrual and redemption moved, and its refund as a returned quantity when it
was refunded in full (a partial refund of a one-line order stays on the order's
``refunded_minor``, which reversals read as before).

``service_categories`` holds the business's own list with readable names; it starts
with the categories its orders used (named by their code until the owner renames them).
``consents.staff_id`` records who took a consent at the counter.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

KINDS = "kind IN ('work', 'part', 'other')"


def upgrade() -> None:
    op.create_table(
        "order_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("redeemed_points", sa.BigInteger(), nullable=False),
        sa.Column("accrued_points", sa.BigInteger(), nullable=False),
        sa.Column("returned_quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint(KINDS, name=op.f("ck_order_lines_kind")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_lines_quantity_positive")),
        sa.CheckConstraint("unit_price_minor >= 0",
                           name=op.f("ck_order_lines_price_not_negative")),
        sa.CheckConstraint("amount_minor = quantity * unit_price_minor",
                           name=op.f("ck_order_lines_amount_is_product")),
        sa.CheckConstraint("discount_minor >= 0 AND discount_minor <= amount_minor",
                           name=op.f("ck_order_lines_discount_within_amount")),
        sa.CheckConstraint("accrued_points >= 0 AND redeemed_points >= 0",
                           name=op.f("ck_order_lines_points_positive")),
        sa.CheckConstraint("returned_quantity >= 0 AND returned_quantity <= quantity",
                           name=op.f("ck_order_lines_returned_within_quantity")),
        sa.ForeignKeyConstraint(["business_id"], ["businesses.id"],
                                name=op.f("fk_order_lines_business_id_businesses")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"],
                                name=op.f("fk_order_lines_order_id_orders")),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"],
                                name=op.f("fk_order_lines_asset_id_assets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
        sa.UniqueConstraint("business_id", "order_id", "position",
                            name=op.f("uq_order_lines_business_id_order_id_position")),
    )
    op.create_table(
        "service_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name_ru", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(KINDS, name=op.f("ck_service_categories_kind")),
        sa.ForeignKeyConstraint(["business_id"], ["businesses.id"],
                                name=op.f("fk_service_categories_business_id_businesses")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_categories")),
        sa.UniqueConstraint("business_id", "code",
                            name=op.f("uq_service_categories_business_id_code")),
    )
    # Added in place: rebuilding consents would drop its append-only triggers on SQLite.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE consents ADD COLUMN staff_id INTEGER"
                   " CONSTRAINT fk_consents_staff_id_staff_users REFERENCES staff_users (id)")
    else:
        op.add_column("consents", sa.Column("staff_id", sa.Integer(), nullable=True))
        op.create_foreign_key(op.f("fk_consents_staff_id_staff_users"), "consents",
                              "staff_users", ["staff_id"], ["id"])
    _backfill()


def _backfill() -> None:
    # One line per order: what its operations moved is what the line earned and spent.
    op.execute(
        """
        INSERT INTO order_lines (business_id, order_id, position, name, kind, category,
                                 asset_id, quantity, unit_price_minor, amount_minor,
                                 discount_minor, redeemed_points, accrued_points,
                                 returned_quantity)
        SELECT o.business_id, o.id, 1, '', 'other', o.service_category, o.asset_id, 1,
               o.total_minor, o.total_minor, o.discount_minor,
               COALESCE((SELECT SUM(p.points) FROM operations p
                         WHERE p.order_id = o.id AND p.kind = 'redemption'), 0),
               COALESCE((SELECT SUM(p.points) FROM operations p
                         WHERE p.order_id = o.id AND p.kind IN ('accrual', 'hold')), 0),
               CASE WHEN o.total_minor > 0 AND o.refunded_minor = o.total_minor
                    THEN 1 ELSE 0 END
        FROM orders o
        """
    )
    op.execute(
        """
        INSERT INTO service_categories (business_id, code, name_ru, name_en, kind, active)
        SELECT DISTINCT o.business_id, o.service_category, o.service_category, NULL,
               'work', TRUE
        FROM orders o WHERE o.service_category IS NOT NULL
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # 3.35+ drops a column in place
        op.execute("ALTER TABLE consents DROP COLUMN staff_id")
    else:
        op.drop_constraint(op.f("fk_consents_staff_id_staff_users"), "consents",
                           type_="foreignkey")
        op.drop_column("consents", "staff_id")
    op.drop_table("service_categories")
    op.drop_table("order_lines")
