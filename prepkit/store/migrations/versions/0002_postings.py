"""Postings a learner prepares for, and the topic weights each one gives.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "posting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_posting"),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name="fk_posting_learner_id_learner"
        ),
        sa.UniqueConstraint("learner_id", "digest", name="uq_posting_learner_id_digest"),
    )
    op.create_table(
        "posting_topic",
        sa.Column("posting_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.String(100), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("posting_id", "topic_id", name="pk_posting_topic"),
        sa.ForeignKeyConstraint(
            ["posting_id"], ["posting.id"], name="fk_posting_topic_posting_id_posting"
        ),
    )


def downgrade() -> None:
    op.drop_table("posting_topic")
    op.drop_table("posting")
