"""``manage.py edit``: the changes an incremental test makes between two runs, as an editor would make them.

``edit SLUG TEXT`` publishes a new revision of a page with TEXT as its body; ``delete SLUG`` deletes a page;
``add SLUG TITLE TEXT`` publishes a new page under the home page.
"""

from django.core.management.base import BaseCommand, CommandParser
from wagtail.models import Site

from content.models import StandardPage


class Command(BaseCommand):
    help = "edit SLUG TEXT | delete SLUG | add SLUG TITLE TEXT"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["edit", "delete", "add"])
        parser.add_argument("args", nargs="+")

    def handle(self, *args: str, **options: object) -> None:
        action = options["action"]
        home = Site.objects.get(is_default_site=True).root_page
        if action == "add":
            slug, title, text = args
            page = StandardPage(title=title, slug=slug, body=f"<p>{text}</p>")
            home.add_child(instance=page)
            page.save_revision().publish()
            return
        page = StandardPage.objects.get(slug=args[0])
        if action == "delete":
            page.delete()
        else:
            page.body = f"<p>{args[1]}</p>"
            page.save_revision().publish()
