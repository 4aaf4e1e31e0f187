"""The Jinja2 environment of a usual Django project: url(), static() and the filters."""

from django.templatetags.static import static
from django.urls import reverse
from jinja2 import Environment

from .text import shout, words


def url(name, *args, **kwargs):
    return reverse(name, args=args, kwargs=kwargs)


def environment(**options):
    env = Environment(**options)
    env.globals.update(url=url, static=static)
    env.filters.update(shout=shout, words=words)
    return env
