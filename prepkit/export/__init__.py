"""Core package: progress writers and importers (the export issue).

Pure Python: no Textual, no SQLAlchemy, no clock reads.
"""
