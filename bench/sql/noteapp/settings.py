"""The Django twin of the `notes` guest's `note` and `page` views for
bench/sql.sh: the same database, read through the ORM, with no middleware
(the Shallot configs have none either): the SQLite file NOTES_DB, or the
PostgreSQL database bench_notes on 127.0.0.1:NOTES_PG_PORT."""

import os

SECRET_KEY = "bench-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["noteapp"]
MIDDLEWARE = []
ROOT_URLCONF = "noteapp.urls"
if "NOTES_PG_PORT" in os.environ:
    DATABASE = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "bench_notes",
        # The role Shallot's read grant uses too (scripts/postgres.sh).
        "USER": "shallot_ro",
        "HOST": "127.0.0.1",
        "PORT": os.environ["NOTES_PG_PORT"],
    }
else:
    DATABASE = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["NOTES_DB"],
    }
# Django's default is a connection per request; keeping it open is the
# fair comparison with Shallot's pool.
DATABASE["CONN_MAX_AGE"] = None
DATABASES = {"default": DATABASE}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
