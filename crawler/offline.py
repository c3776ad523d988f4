"""Keep Scrapy from calling out to the internet on its own.

Scrapy's cookie middleware splits domains with tldextract, whose default downloads the Public Suffix List
from publicsuffix.org (and a GitHub mirror) the first time a response sets a cookie. pushcrawl talks only to
the content system and the target: this swaps in an extractor that reads the suffix list bundled with
tldextract (``suffix_list_urls=()``), with the same private-domain setting Scrapy uses. Scrapy keeps the
extractor in a module attribute, which is the only hook it offers; a test checks the attribute still exists.
"""

from __future__ import annotations

from tldextract import TLDExtract


def no_network_lookups() -> None:
    from scrapy.downloadermiddlewares import cookies

    cookies._split_domain = TLDExtract(suffix_list_urls=(), include_psl_private_domains=True)
