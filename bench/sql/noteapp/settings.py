"""The Django twin of the `notes` guest's `note` and `page` views for
bench/sql.sh: the same SQLite file (NOTES_DB), read through the ORM, with
no middleware (the Shallot configs have none either)."""

import os

SECRET_KEY = "bench-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["noteapp"]
MIDDLEWARE = []
ROOT_URLCONF = "noteapp.urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["NOTES_DB"],
        # Django's default for SQLite is a connection per request; keeping
        # it open is the fair comparison with Shallot's pool.
        "CONN_MAX_AGE": None,
    }
}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
