"""Language detection with py3langid: one identifier per set of candidate languages, loaded on first use.

py3langid reads at most ``DETECT_WINDOW`` characters: its cost is linear in the text while its answer
settles long before (bench/language_detection.py measures both). A site may restrict the candidates
(``extract.languages``): when the site's languages are known, a short text can no longer be taken for a close
neighbour of its language. (It saves no time: the cost is in reading the text, not in scoring languages.)
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

MIN_DETECT_CHARS = 40  # below this, language guesses are noise
#: py3langid reads this many characters at most. Its cost is linear in the text (0.75 ms for 5,000 characters,
#: the largest cost per document in the push path) while its answer settles long before.
DETECT_WINDOW = 1000


@functools.cache
def identifier(languages: tuple[str, ...] = ()) -> LanguageIdentifier:
    """The model (about 75 MB, loaded once per process), restricted to ``languages`` when given.

    Raises ValueError naming the codes the model does not know."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # the model loads on first use, not at import

    ident = LanguageIdentifier.from_model_file(MODEL_FILE)
    if languages:
        unknown = sorted(set(languages) - set(ident.labels))
        if unknown:
            raise ValueError(f"unknown language code(s) {unknown}; py3langid knows {', '.join(sorted(ident.labels))}")
        ident.set_languages(list(languages))
    return ident


def detect(text: str, languages: tuple[str, ...] = ()) -> str | None:
    """The language of ``text`` (an ISO 639-1 code), or None when the text is too short to tell."""
    if len(text) < MIN_DETECT_CHARS:
        return None
    lang, _ = identifier(languages).classify(text[:DETECT_WINDOW])
    return str(lang)
