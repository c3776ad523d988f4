"""MediaWiki Action API connector."""
