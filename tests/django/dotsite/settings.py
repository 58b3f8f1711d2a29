"""A minimal Django project running django-oauth-toolkit, as a site moving to Yaoshi runs it.

The database is a SQLite file named by YAOSHI_DJANGO_DB (build_fixture.py sets it).
"""

import os

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

OAUTH2_PROVIDER = {
    "SCOPES": {"read": "Read", "write": "Write", "openid": "OpenID Connect"},
    "ACCESS_TOKEN_EXPIRE_SECONDS": 36000,
    # The password grant, as sites that still use it have it (DOT warns that 4.0 will refuse it).
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": False,
}
