"""Core package: reading job postings and matching them to topics (the posting issue).

Pure Python: no Textual, no SQLAlchemy, no clock reads.
"""
