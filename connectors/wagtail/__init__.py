"""Wagtail API v2 connector."""
