"""Drives the admin API through a client generated from its own OpenAPI document.

Usage: drive.py BASE_URL USERNAME GROUP_NAME, with the admin access token in
YAOSHI_ADMIN_TOKEN and the new user's password in YAOSHI_USER_PASSWORD.

Fetches BASE_URL/api/v1/openapi.json, runs the unmodified `openapi-python-client generate`
on it (warnings are failures: a route the generator had to skip is a defect of the document),
imports the package it wrote and, with its functions and models only, creates the user,
creates the group, adds the user to it twice (201, then 204: the PUT is idempotent), tries to
create the user again (a 409 parsed as the document's Problem), and reads the group and the
user's groups back. Prints what the client returned as one JSON object; exits non-zero when a
step answers something else.
"""

import importlib
import importlib.metadata
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import httpx

PACKAGE = "yaoshi_admin_client"


def generate(base_url: str, work: pathlib.Path) -> None:
    """Saves the served document under `work` and generates the client package beside it."""
    doc = httpx.get(f"{base_url}/api/v1/openapi.json", timeout=20)
    doc.raise_for_status()
    path = work / "openapi.json"
    path.write_bytes(doc.content)
    # The generator formats its output with ruff, found on PATH: the one installed with it.
    env = dict(os.environ, PATH=f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    run = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(path), "--meta", "none",
         "--output-path", str(work / PACKAGE), "--fail-on-warning"],
        check=False, env=env, capture_output=True, text=True, timeout=300,
    )
    if run.returncode != 0:
        sys.exit(f"openapi-python-client failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")


def expect(step: str, response, status: int):
    """The parsed body of `response` if it has `status`, else exits naming the step."""
    if response.status_code != status:
        sys.exit(f"{step}: expected {status}, got {response.status_code}: {response.content!r}")
    return response.parsed


def drive(base_url: str, token: str, username: str, password: str, group_name: str) -> dict:
    client_pkg = importlib.import_module(PACKAGE)
    users_create = importlib.import_module(f"{PACKAGE}.api.users.create")
    users_groups = importlib.import_module(f"{PACKAGE}.api.users.groups")
    groups_create = importlib.import_module(f"{PACKAGE}.api.groups.create")
    groups_get = importlib.import_module(f"{PACKAGE}.api.groups.get")
    add_member = importlib.import_module(f"{PACKAGE}.api.groups.add_member")
    models = importlib.import_module(f"{PACKAGE}.models")

    # Statuses the document does not list raise instead of passing silently.
    client = client_pkg.AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)
    with client:
        new_user = models.NewUserIn(username=username, password=password, display_name=f"{username} (generated client)")
        user = expect("create user", users_create.sync_detailed(client=client, body=new_user), 201)
        if not isinstance(user, models.UserOut):
            sys.exit(f"create user: parsed as {type(user).__name__}")
        again = expect("create user again", users_create.sync_detailed(client=client, body=new_user), 409)
        if not isinstance(again, models.Problem):
            sys.exit(f"create user again: parsed as {type(again).__name__}")
        group = expect("create group", groups_create.sync_detailed(client=client, body=models.GroupIn(name=group_name)), 201)
        added = add_member.sync_detailed(group.id, user.id, client=client)
        added_again = add_member.sync_detailed(group.id, user.id, client=client)
        detail = expect("read group", groups_get.sync_detailed(group.id, client=client), 200)
        mine = expect("read user's groups", users_groups.sync_detailed(user.id, client=client), 200)
    return {
        "generator": importlib.metadata.version("openapi-python-client"),
        "user": user.to_dict(),
        "conflict": again.to_dict(),
        "group": group.to_dict(),
        "added": added.status_code,
        "added_again": added_again.status_code,
        "group_read": detail.to_dict(),
        "user_groups": mine.to_dict(),
    }


def main() -> None:
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    base_url, username, group_name = sys.argv[1:]
    token = os.environ["YAOSHI_ADMIN_TOKEN"]
    password = os.environ["YAOSHI_USER_PASSWORD"]
    with tempfile.TemporaryDirectory(prefix="yaoshi-openapi-client-") as tmp:
        work = pathlib.Path(tmp)
        generate(base_url, work)
        sys.path.insert(0, str(work))
        print(json.dumps(drive(base_url, token, username, password, group_name)))


if __name__ == "__main__":
    main()
