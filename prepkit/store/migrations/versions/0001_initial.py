"""The first schema: learners, decks, cards, card states, reviews, settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learner",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_learner"),
        sa.UniqueConstraint("name", name="uq_learner_name"),
    )
    op.create_table(
        "deck",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deck"),
    )
    op.create_table(
        "card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("deck_id", sa.String(100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("front", sa.Text(), nullable=False),
        sa.Column("back", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("retired_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_card"),
        sa.UniqueConstraint("key", name="uq_card_key"),
        sa.ForeignKeyConstraint(["deck_id"], ["deck.id"], name="fk_card_deck_id_deck"),
    )
    op.create_index("ix_card_deck_id", "card", ["deck_id"])
    op.create_index(
        "ix_card_retired",
        "card",
        ["retired_at"],
        sqlite_where=sa.text("retired_at IS NOT NULL"),
        postgresql_where=sa.text("retired_at IS NOT NULL"),
    )
    op.create_table(
        "card_state",
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("stability", sa.Float(), nullable=True),
        sa.Column("difficulty", sa.Float(), nullable=True),
        sa.Column("due", sa.BigInteger(), nullable=True),
        sa.Column("last_review", sa.BigInteger(), nullable=True),
        sa.Column("reps", sa.Integer(), nullable=False),
        sa.Column("lapses", sa.Integer(), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("buried_until", sa.BigInteger(), nullable=True),
        sa.Column("flag", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("learner_id", "card_id", name="pk_card_state"),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name="fk_card_state_learner_id_learner"
        ),
        sa.ForeignKeyConstraint(["card_id"], ["card.id"], name="fk_card_state_card_id_card"),
    )
    # Covering index for the study queue: the due-card scan never touches the table.
    op.create_index(
        "ix_card_state_queue",
        "card_state",
        ["learner_id", "due", "state", "suspended", "buried_until", "card_id"],
    )
    op.create_table(
        "review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("reviewed_at", sa.BigInteger(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("state_before", sa.Integer(), nullable=False),
        sa.Column("step_before", sa.Integer(), nullable=True),
        sa.Column("stability_before", sa.Float(), nullable=True),
        sa.Column("difficulty_before", sa.Float(), nullable=True),
        sa.Column("due_before", sa.BigInteger(), nullable=True),
        sa.Column("last_review_before", sa.BigInteger(), nullable=True),
        sa.Column("state_after", sa.Integer(), nullable=False),
        sa.Column("step_after", sa.Integer(), nullable=True),
        sa.Column("stability_after", sa.Float(), nullable=True),
        sa.Column("difficulty_after", sa.Float(), nullable=True),
        sa.Column("due_after", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_review"),
        sa.ForeignKeyConstraint(["learner_id"], ["learner.id"], name="fk_review_learner_id_learner"),
        sa.ForeignKeyConstraint(["card_id"], ["card.id"], name="fk_review_card_id_card"),
    )
    op.create_index("ix_review_card", "review", ["learner_id", "card_id", "reviewed_at"])
    op.create_index("ix_review_time", "review", ["learner_id", "reviewed_at"])
    op.create_table(
        "setting",
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("learner_id", "key", name="pk_setting"),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name="fk_setting_learner_id_learner"
        ),
    )


def downgrade() -> None:
    for table in ("setting", "review", "card_state", "card", "deck", "learner"):
        op.drop_table(table)
