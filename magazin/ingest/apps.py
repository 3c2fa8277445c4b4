from django.apps import AppConfig


class Config(AppConfig):
    name = "magazin.ingest"
    label = "ingest"
