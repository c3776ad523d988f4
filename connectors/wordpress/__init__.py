"""WordPress connector: posts, pages, custom post types and media through the REST API (``/wp-json/wp/v2/``).

``client.py`` builds API URLs, auth headers and pings the site; ``mapping.py`` turns REST objects into
``Document``/``Identity`` items without a network; ``spider.py`` drives listings, paging, incremental runs
and the complete id listing that lets the framework find deletions.
"""
