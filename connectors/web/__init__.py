"""Generic link-following web connector."""
