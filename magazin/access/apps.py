from django.apps import AppConfig


class Config(AppConfig):
    name = "magazin.access"
    label = "magazin_access"
