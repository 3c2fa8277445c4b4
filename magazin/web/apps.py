from django.apps import AppConfig


class Config(AppConfig):
    name = "magazin.web"
    label = "magazin_web"
