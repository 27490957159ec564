"""The book in one run: its 20 chapters in the book's order, each made of sections that compute a key idea, check
it against a closed form or a second computation, and return what to show. ``calcml tour`` prints them and writes
their report."""

from calcml.tour.chapter import Chapter, Check
from calcml.tour.contents import CHAPTERS, run_all, run_chapter

__all__ = ["CHAPTERS", "Chapter", "Check", "run_all", "run_chapter"]
