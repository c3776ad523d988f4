"""Connectors: one Scrapy spider package per content system, found by short name or "package.module:Class"."""
