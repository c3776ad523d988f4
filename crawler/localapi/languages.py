"""Languages of the local search index: which stemmer reads a document, from its ``language`` field.

Coveo stems each item in its own language and a query in the languages it is matched against; here every
language has its own pair of index fields (``title_<code>``, ``body_<code>``) analysed with that language's
Snowball stemmer, and a query word is stemmed once per field. ``language`` may be an ISO code (``fr``), a
locale (``fr-CA``, ``fr_FR``) or an English name (``French``, as Coveo's own ``@language`` values read). An
item without a language is read as English (Coveo's default); a language with no stemmer is indexed unstemmed.
"""

from __future__ import annotations

import tantivy

#: ISO 639-1 code -> Snowball stemmer name (the stemmers tantivy ships)
STEMMERS = {
    "ar": "arabic",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "fi": "finnish",
    "fr": "french",
    "hu": "hungarian",
    "it": "italian",
    "nl": "dutch",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
}
#: the code of the fields that hold languages without a stemmer (words lower-cased and accent-folded only)
UNSTEMMED = "xx"
DEFAULT = "en"
CODES = (*sorted(STEMMERS), UNSTEMMED)
_BY_NAME = {name: code for code, name in STEMMERS.items()}
_ALIASES = {"nb": "no", "nn": "no", "français": "fr", "francais": "fr", "deutsch": "de", "español": "es"}


def code(value: object) -> str:
    """The index language of a document's ``language`` field value (a list: its first value)."""
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, str) or not value.strip():
        return DEFAULT
    text = value.strip().lower().replace("_", "-")
    base = text.split("-", 1)[0]
    found = _ALIASES.get(base) or _ALIASES.get(text) or (base if base in STEMMERS else _BY_NAME.get(text))
    return found or UNSTEMMED


def analyzer(lang: str) -> tantivy.TextAnalyzer:
    """Words split on non-alphanumerics, lower-cased, stemmed, then accent-folded ("élégantes" -> "elegant").

    Stemming runs before folding because the Snowball stemmers expect accented words; folding afterwards
    keeps the old index's ``remove_diacritics`` behaviour (a query "ete" finds "été")."""
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(tantivy.Filter.remove_long(40))
    builder = builder.filter(tantivy.Filter.lowercase())
    if lang in STEMMERS:
        builder = builder.filter(tantivy.Filter.stemmer(STEMMERS[lang]))
    return builder.filter(tantivy.Filter.ascii_fold()).build()
