"""Every option that holds regular expressions refuses a broken one when settings are read (connectors.patterns),
with the key and the pattern named: sitemap/web allow and deny, render's url_patterns, auth's skip."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from connectors.auth.options import BasicLogin
from connectors.render.options import RenderOptions
from connectors.sitemap.spider import SitemapOptions
from connectors.web.spider import WebOptions


@pytest.mark.parametrize(
    ("model", "values", "key"),
    [
        (SitemapOptions, {"sitemap_urls": ["https://site.test/sitemap.xml"], "deny": ["(unclosed"]}, "deny"),
        (WebOptions, {"start_urls": ["https://site.test/"], "allow": ["(unclosed"]}, "allow"),
        (RenderOptions, {"url_patterns": ["(unclosed"]}, "url_patterns"),
        (
            BasicLogin,
            {"kind": "basic", "username": "bot", "password": "not-a-real-secret", "skip": ["(unclosed"]},
            "skip",
        ),
    ],
)
def test_a_broken_pattern_is_refused_naming_its_key(
    model: type[BaseModel], values: dict[str, object], key: str
) -> None:
    with pytest.raises(ValidationError) as error:
        model.model_validate(values)
    text = str(error.value)
    assert key in text and "valid regular expression" in text and "(unclosed" in text
    good = {**values, key: ["^/docs/"]}
    assert getattr(model.model_validate(good), key) == ["^/docs/"]
