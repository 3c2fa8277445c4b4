"""Django's makemessages, also collecting the engine's messages marked with N_() (core.i18n).

MAGAZIN_HOME=/tmp/x django-admin makemessages -l de -l en   (in magazin/)
"""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = makemessages.Command.xgettext_options + ["--keyword=N_", "--keyword=_p:1c,2"]
