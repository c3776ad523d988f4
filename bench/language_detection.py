"""Benchmark of language detection: CPU per document, and agreement, for text windows of different lengths.

    .venv/bin/python bench/language_detection.py

py3langid's cost is linear in the text it reads. This script shows, side by side in one run, how long a
classification takes for each window length, and how often each window gives the same language as the
longest window. The corpus has three parts:

- the bundled demo site's pages (English, a few French and German), extracted the way the extract pipeline
  extracts them, labelled with the language the page declares;
- long texts in eight languages, made by joining sentences written for this benchmark;
- the synthetic connector's 5,000-byte documents (the push benchmark's corpus: random words, no language, so
  they count for the cost only).

The window the extract pipeline uses is ``pipelines.language.DETECT_WINDOW``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import py3langid  # noqa: E402

from crawler.model import Document  # noqa: E402
from pipelines.extract import ExtractConfig, extract_html  # noqa: E402
from pipelines.language import DETECT_WINDOW  # noqa: E402
from tests.helpers.synthetic import text_of  # noqa: E402

SENTENCES = {
    "fr": "Le conseil municipal a voté le budget de la bibliothèque après un long débat. Les habitants pourront "
    "emprunter des livres le dimanche à partir du mois prochain. La directrice espère attirer les familles "
    "qui travaillent pendant la semaine. ",
    "de": "Der Gemeinderat hat nach einer langen Debatte den Haushalt der Bibliothek beschlossen. Ab nächstem "
    "Monat können die Einwohner auch sonntags Bücher ausleihen. Die Leiterin hofft, Familien zu gewinnen, die "
    "unter der Woche arbeiten. ",
    "es": "El ayuntamiento aprobó el presupuesto de la biblioteca después de un largo debate. Los vecinos podrán "
    "pedir libros prestados los domingos a partir del mes que viene. La directora espera atraer a las familias "
    "que trabajan durante la semana. ",
    "it": "Il consiglio comunale ha approvato il bilancio della biblioteca dopo un lungo dibattito. Dal mese "
    "prossimo gli abitanti potranno prendere in prestito i libri anche la domenica. La direttrice spera di "
    "attirare le famiglie che lavorano durante la settimana. ",
    "nl": "De gemeenteraad heeft na een lang debat de begroting van de bibliotheek goedgekeurd. Vanaf volgende "
    "maand kunnen de inwoners ook op zondag boeken lenen. De directeur hoopt gezinnen aan te trekken die "
    "doordeweeks werken. ",
    "pt": "A câmara municipal aprovou o orçamento da biblioteca depois de um longo debate. A partir do próximo "
    "mês os moradores poderão pedir livros emprestados aos domingos. A diretora espera atrair as famílias que "
    "trabalham durante a semana. ",
    "sv": "Kommunfullmäktige har efter en lång debatt antagit bibliotekets budget. Från och med nästa månad kan "
    "invånarna låna böcker även på söndagar. Chefen hoppas locka familjer som arbetar under veckan. ",
    "pl": "Rada miejska po długiej debacie przyjęła budżet biblioteki. Od przyszłego miesiąca mieszkańcy będą "
    "mogli wypożyczać książki także w niedziele. Dyrektorka ma nadzieję przyciągnąć rodziny, które pracują w "
    "tygodniu. ",
}
WINDOWS = (5000, 2000, 1000, 500)


def corpus() -> list[tuple[str, str]]:
    """(expected language or "" when unknown, text) pairs."""
    out: list[tuple[str, str]] = []
    for page in sorted((ROOT / "examples" / "demo").rglob("*.html")):
        doc = Document(document_id=page.as_uri(), html=page.read_text(encoding="utf-8"))
        extract_html(doc, ExtractConfig(detect_language=False))  # the page's declared language is the label
        out.append((doc.language or "", doc.text or ""))
    for lang, sentences in SENTENCES.items():
        # rotate the sentences so that each long text starts differently
        parts = sentences.split(". ")
        for shift in range(len(parts)):
            out.append((lang, (". ".join(parts[shift:] + parts[:shift]) + " ") * 12))
    out += [("", text_of(i, 5000, 0)) for i in range(200)]
    return out


def main() -> None:
    docs = corpus()
    py3langid.classify("warm the model up")
    labelled = [i for i, (lang, _) in enumerate(docs) if lang]
    reference = {i: py3langid.classify(docs[i][1][: WINDOWS[0]])[0] for i in labelled}
    print(
        f"{len(docs)} texts ({len(labelled)} with a known language), "
        f"mean length {sum(len(t) for _, t in docs) / len(docs):,.0f} characters"
    )
    print(f"{'window':>8} {'ms/text':>8} {'right':>7} {'same as 5000':>13}")
    for window in WINDOWS:
        started = time.process_time()
        answers = [py3langid.classify(text[:window])[0] for _, text in docs]
        ms = (time.process_time() - started) / len(docs) * 1000
        right = sum(answers[i] == docs[i][0] for i in labelled) / len(labelled)
        same = sum(answers[i] == reference[i] for i in labelled) / len(labelled)
        mark = "  <- DETECT_WINDOW" if window == DETECT_WINDOW else ""
        print(f"{window:>8} {ms:>8.3f} {right:>7.1%} {same:>13.1%}{mark}")


if __name__ == "__main__":
    main()
