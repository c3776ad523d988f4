"""WSGI entry point of the Wagtail test bed."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bedsite.settings")
application = get_wsgi_application()
