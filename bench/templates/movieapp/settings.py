"""Django twin of examples/movies, for bench/templates.sh.

The page and its parts are the ones Shallot serves from
examples/movies/shallot.toml: the same template files (Jinja2 backend), a
context processor adding `site` and `user`, the filters `shout` and `words`,
`url()` and `static()`, and one middleware, RequestId. No database, no
contrib apps, no other middleware, DEBUG off.

MOVIES_TEMPLATES picks the template engine, with the URLs unchanged:
  jinja2 (default)  Django's Jinja2 backend over examples/movies/templates
  dtl               Django templates: the same pages translated, in ../dtl
"""

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent            # bench/templates/movieapp
ROOT = HERE.parents[2]                            # the Shallot checkout
ENGINE = os.environ.get("MOVIES_TEMPLATES", "jinja2")

SECRET_KEY = "bench-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

# Listed so that Django finds movieapp/templatetags for the DTL variant.
INSTALLED_APPS = ["movieapp"]

MIDDLEWARE = ["movieapp.middleware.RequestIdMiddleware"]

ROOT_URLCONF = "movieapp.urls"
WSGI_APPLICATION = "movieapp.wsgi.application"

STATIC_URL = "/static/"

if ENGINE == "jinja2":
    TEMPLATES = [
        {
            "BACKEND": "django.template.backends.jinja2.Jinja2",
            "DIRS": [ROOT / "examples" / "movies" / "templates"],
            "APP_DIRS": False,
            "OPTIONS": {
                "environment": "movieapp.jinja2env.environment",
                "context_processors": ["movieapp.context_processors.site"],
            },
        }
    ]
elif ENGINE == "dtl":
    TEMPLATES = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [HERE.parent / "dtl"],
            "APP_DIRS": False,
            "OPTIONS": {
                # With DEBUG off Django wraps the loaders in its cached loader.
                "context_processors": ["movieapp.context_processors.site"],
            },
        }
    ]
else:
    raise RuntimeError(f"MOVIES_TEMPLATES must be jinja2 or dtl, not {ENGINE!r}")

DATABASES = {}
USE_I18N = False
USE_TZ = True
TIME_ZONE = "UTC"
