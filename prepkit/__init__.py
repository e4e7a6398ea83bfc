"""prepkit: interview preparation from a job posting, with FSRS spaced repetition."""

__version__ = "0.1.0"
