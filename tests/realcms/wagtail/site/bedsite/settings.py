"""Settings of the Wagtail test bed: Wagtail's project-template defaults, SQLite, nothing that calls out.

Runtime state (database, media, secret key) lives in ``$PUSHCRAWL_WAGTAIL_DATA``, outside the work tree;
``tests/realcms/wagtail/bed.py`` sets it. The API is mounted exactly as Wagtail's docs say (``wagtail.api.v2``
and ``rest_framework`` installed, no API settings changed), so the connector meets what a new user's site serves.
"""

import os
import secrets
from pathlib import Path

DATA = Path(os.environ["PUSHCRAWL_WAGTAIL_DATA"])
_key = DATA / "secret_key"
if not _key.exists():  # one random key per bed, kept with its database
    _key.write_text(secrets.token_urlsafe(48))
SECRET_KEY = _key.read_text()

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "content",
    "wagtail.api.v2",
    "rest_framework",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "bedsite.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
WSGI_APPLICATION = "bedsite.wsgi.application"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA / "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA / "media"

WAGTAIL_SITE_NAME = "pushcrawl Wagtail bed"
WAGTAILADMIN_BASE_URL = "http://127.0.0.1"
# nothing leaves the machine: no update check, no "what's new" feed, no Gravatar, no e-mail
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_ENABLE_WHATS_NEW_BANNER = False
WAGTAIL_GRAVATAR_PROVIDER_URL = None
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
WAGTAILEMBEDS_FINDERS: list[dict[str, str]] = []
