"""WSGI entry point for production web servers."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "magazin.settings")
application = get_wsgi_application()
