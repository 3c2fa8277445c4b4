from django.apps import AppConfig


class Config(AppConfig):
    name = "magazin.api"
    label = "magazin_api"
