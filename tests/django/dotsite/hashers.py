from django.contrib.auth.hashers import PBKDF2PasswordHasher


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """Django's default hasher at 10,000 rounds (its default is 1,000,000): the same
    `pbkdf2_sha256$…` format and code, quick enough to build the test database in seconds."""

    iterations = 10_000
