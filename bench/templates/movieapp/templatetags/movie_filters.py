from django import template

from .. import text

register = template.Library()
register.filter("shout", text.shout)
register.filter("words", text.words)
