"""``manage.py seed``: the bed's content, each item chosen for something a crawl must get right.

Live public pages (rich text, StreamField, tags, a tree three deep, non-ASCII titles and slugs), a draft, a
page whose newer revision is not published, pages behind each kind of view restriction (group, login,
password, and a child inheriting one), an image and a document. Every restricted or unpublished page carries
a token word of its own (``SECRET_TOKENS``) so a test can search the index for it and expect nothing.
"""

import io
import json
import zlib

from django.contrib.auth.models import Group
from django.core.files.images import ImageFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from wagtail.documents.models import Document
from wagtail.images.models import Image
from wagtail.models import Page, PageViewRestriction, Site

from content.models import ArticlePage, StandardPage

SECRET_TOKENS = {
    "draft": "draftonlytoken",
    "revision": "unpublishedrevisiontoken",
    "group": "staffonlytoken",
    "login": "membersonlytoken",
    "inherited": "newsletteronlytoken",
    "password": "boardonlytoken",
}


def png(width: int, height: int) -> bytes:
    """A solid-colour RGB PNG, built by hand so the seed needs no image library call."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    rows = b"".join(b"\x00" + b"\x2a\x6f\xb0" * width for _ in range(height))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x02\x00\x00\x00"
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def pdf(text: str) -> bytes:
    """A one-page PDF showing ``text`` (ASCII), with a correct cross-reference table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def publish(parent: Page, page: Page, tags: list[str] | None = None) -> Page:
    parent.add_child(instance=page)
    if tags:
        page.tags.add(*tags)
    page.save_revision().publish()
    return page


def restrict(page: Page, kind: str, **kw: object) -> None:
    restriction = PageViewRestriction.objects.create(page=page, restriction_type=kind, password=kw.get("password", ""))
    if "group" in kw:
        restriction.groups.add(kw["group"])


class Command(BaseCommand):
    help = "Seed the bed's pages, restrictions, image and document (once: refuses a seeded database)."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        if StandardPage.objects.exists():
            raise CommandError("already seeded; `bed.py reset` starts again from an empty database")
        home = Site.objects.get(is_default_site=True).root_page
        # files get their size and SHA-1 as an upload through the admin gives them (Wagtail's document view
        # derives its ETag from that hash)
        image = Image(title="Reading club poster", file=ImageFile(io.BytesIO(png(64, 48)), name="reading-club.png"))
        image._set_image_file_metadata()
        image.save()
        image.tags.add("posters", "événements")
        rules = SimpleUploadedFile("library-rules.pdf", pdf("Library rules: quiet please"), "application/pdf")
        document = Document(title="Library rules", file=rules)
        document._set_document_file_metadata()
        document.save()
        document.tags.add("rules")

        about = publish(
            home,
            StandardPage(
                title="About the library",
                slug="about",
                intro="Who we are",
                body="<p>The library opened in 1921 and lends books to everyone.</p>",
            ),
            ["library"],
        )
        publish(
            about,
            StandardPage(
                title="Reading club",
                slug="reading-club",
                intro="Every Tuesday",
                body="<p>The <b>reading club</b> meets on Tuesdays.</p>",
            ),
            ["books", "events"],
        )
        events = publish(home, StandardPage(title="Events", slug="events", body="<p>What is on.</p>"))
        publish(
            events,
            ArticlePage(
                title="Winter reading",
                slug="winter-reading",
                author="Ada Lovelace",
                body=json.dumps(
                    [
                        {"type": "heading", "value": "Snow and stories"},
                        {"type": "paragraph", "value": "<p>Warm drinks and <i>long novels</i> all winter.</p>"},
                        {"type": "image", "value": image.pk},
                        {"type": "document", "value": document.pk},
                    ]
                ),
            ),
            ["events", "winter"],
        )
        publish(
            home,
            StandardPage(
                title="Café crème et naïveté",
                slug="café-crème",
                body="<p>Les œuvres complètes du bibliothécaire, à lire au café.</p>",
            ),
            ["français"],
        )
        publish(
            home,
            ArticlePage(
                title="図書館の案内",
                slug="図書館",
                author="山田",
                body=json.dumps([{"type": "paragraph", "value": "<p>図書館は毎日開いています。</p>"}]),
            ),
        )

        draft = StandardPage(title="Draft plans", slug="draft-plans", body=f"<p>{SECRET_TOKENS['draft']}</p>")
        draft.live = False
        home.add_child(instance=draft)
        draft.save_revision()

        hours = publish(
            home, StandardPage(title="Opening hours", slug="opening-hours", body="<p>Open from nine to five.</p>")
        )
        hours.body = f"<p>{SECRET_TOKENS['revision']}</p>"
        hours.save_revision()  # a newer revision, not published: the live page keeps its first body

        staff, _ = Group.objects.get_or_create(name="Library staff")
        handbook = publish(
            home, StandardPage(title="Staff handbook", slug="staff-handbook", body=f"<p>{SECRET_TOKENS['group']}</p>")
        )
        restrict(handbook, PageViewRestriction.GROUPS, group=staff)
        members = publish(
            home, StandardPage(title="Members area", slug="members", body=f"<p>{SECRET_TOKENS['login']}</p>")
        )
        restrict(members, PageViewRestriction.LOGIN)
        publish(
            members,
            StandardPage(title="Members newsletter", slug="newsletter", body=f"<p>{SECRET_TOKENS['inherited']}</p>"),
        )
        board = publish(
            home, StandardPage(title="Board minutes", slug="board-minutes", body=f"<p>{SECRET_TOKENS['password']}</p>")
        )
        restrict(board, PageViewRestriction.PASSWORD, password="bed-password")
        self.stdout.write(f"seeded {Page.objects.count()} pages, 1 image, 1 document")
