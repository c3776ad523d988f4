"""Django's command-line entry point for the Wagtail test bed (run with the bed's own venv)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bedsite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
