"""A minimal Django project running django-oauth-toolkit, as a site moving to Yaoshi runs it.

The database is the PostgreSQL database YAOSHI_DJANGO_POSTGRES names (a postgres:// URL), or
else the SQLite file YAOSHI_DJANGO_DB names (build_fixture.py sets one of them).
"""

import os
import urllib.parse

SECRET_KEY = "yaoshi-test-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
USE_TZ = True
ROOT_URLCONF = "dotsite.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("YAOSHI_DJANGO_DB", "dot.sqlite3"),
        # A throwaway file: no fsync per migration.
        "OPTIONS": {"init_command": "PRAGMA synchronous=OFF;"},
    }
}

# A quick PBKDF2 first (new passwords and DOT's hashed client secrets use it), then Django's
# default and every hasher whose hashes Yaoshi verifies.
PASSWORD_HASHERS = [
    "dotsite.hashers.QuickPBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

if os.environ.get("YAOSHI_DJANGO_POSTGRES"):
    _pg = urllib.parse.urlsplit(os.environ["YAOSHI_DJANGO_POSTGRES"])
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _pg.path.lstrip("/"),
            "USER": urllib.parse.unquote(_pg.username or ""),
            "PASSWORD": urllib.parse.unquote(_pg.password or ""),
            "HOST": _pg.hostname or "",
            "PORT": str(_pg.port or ""),
        }
    }

OAUTH2_PROVIDER = {
    "SCOPES": {"read": "Read", "write": "Write", "openid": "OpenID Connect"},
    "ACCESS_TOKEN_EXPIRE_SECONDS": 36000,
    # The password grant, as sites that still use it have it (DOT warns that 4.0 will refuse it).
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": False,
}
