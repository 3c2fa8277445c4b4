from django.apps import AppConfig


class Config(AppConfig):
    name = "magazin.xdomea"
    label = "xdomea"
    verbose_name = "xdomea"
