"""Drupal connector: nodes of chosen content types through JSON:API (``/jsonapi/node/{type}``).

``client.py`` holds the options, URL building and ``ping``; ``mapping.py`` turns JSON:API resources (with
their ``included`` authors and taxonomy terms) into items without a network; ``spider.py`` pages through
``links.next``, filters by ``changed`` for incremental runs and lists every id so deletions are found.
"""
