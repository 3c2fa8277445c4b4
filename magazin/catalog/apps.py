from django.apps import AppConfig


class Config(AppConfig):
    name = "magazin.catalog"
    label = "catalog"
