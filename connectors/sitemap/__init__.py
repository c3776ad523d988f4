"""The ``sitemap`` connector: pages listed in sitemaps (urlsets, sitemap indexes, gzipped), http(s) or file."""
