"""``manage.py bedsite PORT``: point the default Site at the port the bed serves on, so ``html_url`` is right."""

from django.core.management.base import BaseCommand, CommandParser
from wagtail.models import Site


class Command(BaseCommand):
    help = "Set the default Site's hostname to 127.0.0.1 and its port to PORT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("port", type=int)

    def handle(self, *args: object, **options: object) -> None:
        site = Site.objects.get(is_default_site=True)
        site.hostname, site.port = "127.0.0.1", int(str(options["port"]))
        site.save()
