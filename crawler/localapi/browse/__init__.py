"""The Content Browser: HTML pages over the local index, rendered from Jinja2 templates (``templates/``).

Modules: ``render`` (the template environment and response headers), ``login`` (key -> session cookie),
``sources`` + ``facets`` (sources, a source's items with paging, sort, filters and facets), ``item`` +
``explain`` (one item and why a user can or cannot see it), ``lists`` (identities, activity log, fields),
``searchpage`` (search as a user) and ``runs`` (the crawler's run history, when the server can read it).
"""
