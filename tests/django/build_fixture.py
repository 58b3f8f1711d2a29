"""Builds a real django-oauth-toolkit database for Yaoshi's import test.

Usage: python build_fixture.py OUTDIR [POSTGRES_URL]

Writes OUTDIR/dot.sqlite3 (a migrated Django database), or with POSTGRES_URL fills that
(existing) PostgreSQL database instead, and OUTDIR/fixture.json: the database's URL for
`yaoshi import django --source`, and the plaintext passwords, client secrets and tokens the test
presents to Yaoshi after importing. Users are
made with Django's own create_user/make_password; applications of every grant type with
hashed and plain secrets; live tokens come from DOT's own token endpoint (its TokenView,
called through Django's test client, so no port is opened).
"""

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

out = Path(sys.argv[1]).resolve()
out.mkdir(parents=True, exist_ok=True)
postgres = sys.argv[2] if len(sys.argv) > 2 else None
if postgres:
    os.environ["YAOSHI_DJANGO_POSTGRES"] = postgres
    source = postgres
else:
    db = out / "dot.sqlite3"
    if db.exists():
        db.unlink()
    os.environ["YAOSHI_DJANGO_DB"] = str(db)
    source = f"sqlite://{db}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dotsite.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402

call_command("migrate", verbosity=0)
# A PostgreSQL database may hold a previous run's rows.
call_command("flush", interactive=False, verbosity=0)

users = []


def user(id, username, password, hasher=None, **extra):
    """A Django user; `hasher` names one of PASSWORD_HASHERS (None: Django's default)."""
    u = User.objects.create_user(id=id, username=username, password=password, **extra)
    if hasher == "default":
        # Django's own default, at its full 1,000,000 rounds.
        h = PBKDF2PasswordHasher()
        u.password = h.encode(password, h.salt())
        u.save(update_fields=["password"])
    elif hasher:
        u.password = make_password(password, hasher=hasher)
        u.save(update_fields=["password"])
    users.append({"id": id, "username": username, "password": password, "algorithm": u.password.split("$")[0]})
    return u


alice = user(101, "alice", "alice-old-django-pw", email="alice@example.com", first_name="Alice",
             last_name="Liddell", is_staff=True)
user(102, "bob", "bob-old-django-pw", hasher="pbkdf2_sha1", email="bob@example.com")
user(103, "dave", "dave-old-django-pw", hasher="argon2")
user(104, "erin", "erin-old-django-pw", hasher="bcrypt_sha256")
user(105, "frank", "frank-old-django-pw", hasher="scrypt")
# Django compares usernames case-sensitively, Yaoshi does not: a collision.
# Django's default hasher at its full rounds (a sign-in at DOT would rehash it to the first).
user(106, "Carol", "carol-upper-django-pw", hasher="default")
user(107, "carol", "carol-lower-django-pw")
# A valid Django username that Yaoshi's rules refuse.
user(108, "ann+news@example.com", "ann-old-django-pw")
nopass = User.objects.create_user(id=109, username="nopass")
nopass.set_unusable_password()
nopass.save()
users.append({"id": 109, "username": "nopass", "password": None, "algorithm": "!"})
User.objects.create_superuser(id=110, username="root", email="root@example.com", password="root-old-django-pw")
users.append({"id": 110, "username": "root", "password": "root-old-django-pw", "algorithm": "pbkdf2_sha256"})

apps = []


def app(client_id, grant, hashed, client_type="confidential", **extra):
    secret = f"{client_id}-secret-0123456789abcdefghijklmnopqrstuvwxyz"
    Application.objects.create(
        client_id=client_id, client_secret=secret, hash_client_secret=hashed, client_type=client_type,
        authorization_grant_type=grant, name=f"{client_id} app", user=alice, **extra,
    )
    stored = Application.objects.get(client_id=client_id).client_secret
    apps.append({"client_id": client_id, "secret": secret, "grant": grant, "hashed": stored != secret,
                 "confidential": client_type == "confidential"})


app("web-code", Application.GRANT_AUTHORIZATION_CODE, True, redirect_uris="https://rp.example/cb https://rp.example/cb2",
    post_logout_redirect_uris="https://rp.example/bye", allowed_origins="https://rp.example",
    skip_authorization=True, algorithm=Application.RS256_ALGORITHM)
app("spa-implicit", Application.GRANT_IMPLICIT, False, client_type="public", redirect_uris="https://spa.example/cb")
app("pw-hashed", Application.GRANT_PASSWORD, True)
app("cc-hashed", Application.GRANT_CLIENT_CREDENTIALS, True)
app("cc-plain", Application.GRANT_CLIENT_CREDENTIALS, False)
app("hybrid-hs256", Application.GRANT_OPENID_HYBRID, False, redirect_uris="https://hybrid.example/cb",
    algorithm=Application.HS256_ALGORITHM)

web = Client()


def token(client_id, **form):
    secret = next(a["secret"] for a in apps if a["client_id"] == client_id)
    resp = web.post("/o/token/", {**form, "client_id": client_id, "client_secret": secret})
    body = resp.json()
    if resp.status_code != 200:
        sys.exit(f"DOT's token endpoint refused {client_id}: {resp.status_code} {body}")
    return body


tokens = {
    "password": token("pw-hashed", grant_type="password", username="alice", password="alice-old-django-pw",
                      scope="read write"),
    # root's, not bob's: a sign-in at Django rehashes a password in a hasher other than the first.
    "password_root": token("pw-hashed", grant_type="password", username="root", password="root-old-django-pw",
                           scope="read"),
    "cc_hashed": token("cc-hashed", grant_type="client_credentials", scope="read"),
    "cc_plain": token("cc-plain", grant_type="client_credentials", scope="read"),
}
# A refresh at DOT revokes the refresh token it rotates: the new one is live, the old one not.
tokens["rotated"] = token("pw-hashed", grant_type="refresh_token", refresh_token=tokens["password_root"]["refresh_token"])

(out / "fixture.json").write_text(json.dumps({"source": source, "users": users, "apps": apps, "tokens": tokens}, indent=2))
print(f"Django database at {source}")
