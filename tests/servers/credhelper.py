"""A small real Docker credential helper for tests: ``docker-credential-NAME``
speaking the helper protocol (get/store/list) against a JSON file."""

from __future__ import annotations

from pathlib import Path

_SCRIPT = """#!/usr/bin/env python3
import json, sys
path = {store!r}
data = json.load(open(path))
action = sys.argv[1]
if action == "get":
    server = sys.stdin.read().strip()
    if server not in data:
        print("credentials not found in native keychain"); sys.exit(1)
    user, secret = data[server]
    print(json.dumps({{"ServerURL": server, "Username": user, "Secret": secret}}))
elif action == "store":
    cred = json.load(sys.stdin)
    data[cred["ServerURL"]] = [cred["Username"], cred["Secret"]]
    json.dump(data, open(path, "w"))
elif action == "list":
    print(json.dumps({{k: v[0] for k, v in data.items()}}))
else:
    sys.exit(1)
"""


def file_credential_helper(bindir: Path, store: Path, name: str = "hdfile") -> Path:
    """Write ``bindir/docker-credential-NAME`` storing to ``store`` (a JSON
    map ``{server: [user, secret]}``, which must exist) and return it."""
    helper = bindir / f"docker-credential-{name}"
    helper.write_text(_SCRIPT.format(store=str(store)))
    helper.chmod(0o755)
    return helper
