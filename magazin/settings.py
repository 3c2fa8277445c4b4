"""Django settings: SQLite under MAGAZIN_HOME by default, PostgreSQL when DATABASE_URL is set.

Importing them writes nothing: `magazin init` creates the data folder and its secret key."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from magazin.core.config import home_path

BASE_DIR = Path(__file__).resolve().parent
MAGAZIN_HOME = home_path()


def _secret_key() -> str:
    """MAGAZIN_SECRET_KEY, or the key `magazin init` wrote into the data folder; without an
    archive (a command about to refuse) a key for this process alone."""
    if os.environ.get("MAGAZIN_SECRET_KEY"):
        return os.environ["MAGAZIN_SECRET_KEY"]
    try:
        return (MAGAZIN_HOME / "secret_key").read_text().strip()
    except OSError:
        return secrets.token_urlsafe(50)


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
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_tasks",
    "django_tasks_db",
    "magazin.catalog",
    "magazin.ingest",
    "magazin.access",
    "magazin.web",
    "magazin.api",
    "magazin.xdomea",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "magazin.access.middleware.RejectNul",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "magazin.web.middleware.ReaderLocale",
    "magazin.access.middleware.SecurityHeaders",
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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "magazin.web.context.nav",
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
            "OPTIONS": {
                # Many processes share the file (server, workers, CLI). Every transaction
                # takes the write lock when it begins, so it waits its turn (busy timeout)
                # instead of failing: a deferred transaction that reads and then writes
                # cannot wait in WAL mode and fails at once with "database is locked" when
                # another process wrote meanwhile. Transactions are kept short; the timeout
                # only has to outlast the longest of them.
                "transaction_mode": "IMMEDIATE",
                "timeout": 300,
                "init_command": "PRAGMA journal_mode=WAL;",
            },
        }
    }

# background jobs (ingest from the web and API): django-tasks with the database backend, run
# by `magazin worker` (or in-process by `magazin serve`)
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# uploads larger than 2.5 MB stream to a temporary file under MAGAZIN_HOME (then one rename;
# `magazin init` makes the folder)
FILE_UPLOAD_TEMP_DIR = str(MAGAZIN_HOME / "tmp") if (MAGAZIN_HOME / "tmp").is_dir() else None

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "de"
LANGUAGES = [("de", "Deutsch"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["magazin.formats"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if os.environ.get("MAGAZIN_HTTPS") == "1":  # behind TLS: cookies only over HTTPS
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000

# Logins: argon2 password hashes, lockout after repeated failures (magazin/access/auth.py)
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["magazin.access.auth.LockoutBackend"]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "magazin.access.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Magazin API",
    "DESCRIPTION": "Units, files, events, DIP export of the Magazin digital archive.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"handlers": [], "level": "WARNING"},
}
