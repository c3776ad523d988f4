"""Tests against real content systems (WordPress, MediaWiki, Wagtail) started by the suite itself.

Marked ``realcms`` and left out of the default ``pytest`` run; ``pytest -m realcms`` runs them.
"""
