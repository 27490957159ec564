"""The book in one run: each chapter computes its key idea, checks it against a closed form, and
returns what to show. ``calcml tour`` prints them; later chapters are added as the layers grow."""

from calcml.tour.chapter import Chapter, Check
from calcml.tour.contents import CHAPTERS, run_all, run_chapter

__all__ = ["CHAPTERS", "Chapter", "Check", "run_all", "run_chapter"]
