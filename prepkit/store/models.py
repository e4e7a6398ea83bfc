"""The schema, as typed SQLAlchemy models.

Library content (decks, cards) is shared; everything about a learner (card states, reviews,
settings) carries a `learner_id` from the first schema on, so one PostgreSQL server can hold a
study group without a schema rewrite. Instants are integer epoch milliseconds (UTC), as in Anki:
portable, exact and cheap to compare. Cards have an integer surrogate key for compact joins and
the library's stable text id as `key`, which is what review history is keyed on across edits.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Learner(Base):
    __tablename__ = "learner"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class Deck(Base):
    __tablename__ = "deck"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    source_file: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[int] = mapped_column(BigInteger)


class Card(Base):
    __tablename__ = "card"
    __table_args__ = (
        Index(
            "ix_card_retired",
            "retired_at",
            sqlite_where=text("retired_at IS NOT NULL"),
            postgresql_where=text("retired_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    deck_id: Mapped[str] = mapped_column(ForeignKey("deck.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    front: Mapped[str] = mapped_column(Text)
    back: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(Text)  # JSON list
    payload: Mapped[str] = mapped_column(Text)  # JSON object: the kind's extra fields
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    retired_at: Mapped[int | None] = mapped_column(BigInteger)


class CardState(Base):
    __tablename__ = "card_state"
    __table_args__ = (
        Index(
            "ix_card_state_queue",
            "learner_id",
            "due",
            "state",
            "suspended",
            "buried_until",
            "card_id",
        ),
    )

    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id"), primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), primary_key=True)
    state: Mapped[int] = mapped_column(Integer, default=0)
    step: Mapped[int | None] = mapped_column(Integer)
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    due: Mapped[int | None] = mapped_column(BigInteger)
    last_review: Mapped[int | None] = mapped_column(BigInteger)
    reps: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    buried_until: Mapped[int | None] = mapped_column(BigInteger)
    flag: Mapped[int] = mapped_column(Integer, default=0)


# A card's memory state, in the order prepkit.store.queries.state_from_row reads it.
MEMORY_COLUMNS = (
    CardState.state,
    CardState.step,
    CardState.stability,
    CardState.difficulty,
    CardState.due,
    CardState.last_review,
    CardState.reps,
    CardState.lapses,
)


class Review(Base):
    """One answer. The state before it is kept, so undo is exact and history can be replayed."""

    __tablename__ = "review"
    __table_args__ = (
        Index("ix_review_card", "learner_id", "card_id", "reviewed_at"),
        Index("ix_review_time", "learner_id", "reviewed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"))
    reviewed_at: Mapped[int] = mapped_column(BigInteger)
    rating: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    state_before: Mapped[int] = mapped_column(Integer)
    step_before: Mapped[int | None] = mapped_column(Integer)
    stability_before: Mapped[float | None] = mapped_column(Float)
    difficulty_before: Mapped[float | None] = mapped_column(Float)
    due_before: Mapped[int | None] = mapped_column(BigInteger)
    last_review_before: Mapped[int | None] = mapped_column(BigInteger)
    state_after: Mapped[int] = mapped_column(Integer)
    step_after: Mapped[int | None] = mapped_column(Integer)
    stability_after: Mapped[float | None] = mapped_column(Float)
    difficulty_after: Mapped[float | None] = mapped_column(Float)
    due_after: Mapped[int | None] = mapped_column(BigInteger)


class Setting(Base):
    __tablename__ = "setting"

    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # JSON


class Posting(Base):
    """A job posting the learner prepares for; the text is kept so the match can be redone."""

    __tablename__ = "posting"
    __table_args__ = (UniqueConstraint("learner_id", "digest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id"))
    title: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)


class PostingTopic(Base):
    """How much one posting asks for one topic (weights of several postings add up)."""

    __tablename__ = "posting_topic"

    posting_id: Mapped[int] = mapped_column(ForeignKey("posting.id"), primary_key=True)
    topic_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    weight: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(Text)  # JSON list of phrases


class CardEdit(Base):
    """One change a learner made to a card's text, kept forever: the edit log.

    `old_*` is what the learner saw before (the library text or an earlier edit) and `front` /
    `back` what they saw after, so the log reads on its own even after the library changes. A
    revert is logged as a row with `reverted` set whose new text is the library text it restored.
    """

    __tablename__ = "card_edit"
    __table_args__ = (Index("ix_card_edit_card", "learner_id", "card_id", "edited_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"))
    edited_at: Mapped[int] = mapped_column(BigInteger)
    old_front: Mapped[str] = mapped_column(Text)
    old_back: Mapped[str | None] = mapped_column(Text)
    front: Mapped[str] = mapped_column(Text)
    back: Mapped[str | None] = mapped_column(Text)
    reverted: Mapped[bool] = mapped_column(Boolean, default=False)


class CardOverride(Base):
    """The text a learner sees instead of the library's, while they have an edit in force.

    Kept apart from `card` because sync rewrites library rows in place and must never erase a
    learner's edit, and apart from the log so the study hot path reads it with one primary-key
    lookup. `base_*` is the library text the edit was made against: when sync changes it, the
    card info can say the library moved underneath the edit.
    """

    __tablename__ = "card_override"

    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id"), primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), primary_key=True)
    front: Mapped[str] = mapped_column(Text)
    back: Mapped[str | None] = mapped_column(Text)
    base_front: Mapped[str] = mapped_column(Text)
    base_back: Mapped[str | None] = mapped_column(Text)
    edit_id: Mapped[int] = mapped_column(ForeignKey("card_edit.id"))
    edited_at: Mapped[int] = mapped_column(BigInteger)
