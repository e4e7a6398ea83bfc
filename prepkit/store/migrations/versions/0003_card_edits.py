"""A learner's card edits: the edit log and the override in force, kept apart from the library.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "card_edit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("edited_at", sa.BigInteger(), nullable=False),
        sa.Column("old_front", sa.Text(), nullable=False),
        sa.Column("old_back", sa.Text(), nullable=True),
        sa.Column("front", sa.Text(), nullable=False),
        sa.Column("back", sa.Text(), nullable=True),
        sa.Column("reverted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_card_edit"),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name="fk_card_edit_learner_id_learner"
        ),
        sa.ForeignKeyConstraint(["card_id"], ["card.id"], name="fk_card_edit_card_id_card"),
    )
    op.create_index("ix_card_edit_card", "card_edit", ["learner_id", "card_id", "edited_at"])
    # The edit in force, one row per (learner, card): the study hot path reads it with a single
    # primary-key lookup instead of searching the log for the latest edit.
    op.create_table(
        "card_override",
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("front", sa.Text(), nullable=False),
        sa.Column("back", sa.Text(), nullable=True),
        sa.Column("base_front", sa.Text(), nullable=False),
        sa.Column("base_back", sa.Text(), nullable=True),
        sa.Column("edit_id", sa.Integer(), nullable=False),
        sa.Column("edited_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("learner_id", "card_id", name="pk_card_override"),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name="fk_card_override_learner_id_learner"
        ),
        sa.ForeignKeyConstraint(["card_id"], ["card.id"], name="fk_card_override_card_id_card"),
        sa.ForeignKeyConstraint(
            ["edit_id"], ["card_edit.id"], name="fk_card_override_edit_id_card_edit"
        ),
    )


def downgrade() -> None:
    op.drop_table("card_override")
    op.drop_index("ix_card_edit_card", table_name="card_edit")
    op.drop_table("card_edit")
