"""Django settings: SQLite under MAGAZIN_HOME by default, PostgreSQL when DATABASE_URL is set."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from magazin.core.config import home_path

BASE_DIR = Path(__file__).resolve().parent
MAGAZIN_HOME = home_path()


def _secret_key() -> str:
    if os.environ.get("MAGAZIN_SECRET_KEY"):
        return os.environ["MAGAZIN_SECRET_KEY"]
    f = MAGAZIN_HOME / "secret_key"
    try:
        return f.read_text().strip()
    except OSError:
        key = secrets.token_urlsafe(50)
        try:
            MAGAZIN_HOME.mkdir(parents=True, exist_ok=True)
            f.write_text(key)
            f.chmod(0o600)
        except OSError:
            pass
        return key


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("MAGAZIN_DEBUG") == "1"
ALLOWED_HOSTS = [
    h for h in os.environ.get("MAGAZIN_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "magazin.catalog",
    "magazin.ingest",
    "magazin.access",
    "magazin.web",
    "magazin.api",
    "magazin.xdomea",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "magazin.urls"
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
            ],
        },
    },
]
WSGI_APPLICATION = "magazin.wsgi.application"

if os.environ.get("DATABASE_URL"):
    import dj_database_url

    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": MAGAZIN_HOME / "catalog.sqlite3",
            "OPTIONS": {"timeout": 30, "init_command": "PRAGMA journal_mode=WAL;"},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "de"
LANGUAGES = [("de", "Deutsch"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"handlers": [], "level": "WARNING"},
}
