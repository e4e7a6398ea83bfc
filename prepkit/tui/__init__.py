"""The Textual face: dashboard, reviewer, browser, stats, posting and settings screens.

Screens call services (StudySession, workspace, progress, cards) and show plain dataclasses;
they never run SQL or FSRS math themselves.
"""
