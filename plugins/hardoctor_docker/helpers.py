"""The credential-helper protocol (``docker-credential-NAME get|list``).

The docker SDK has a client for this protocol, but it runs helpers with no
timeout and reads unbounded output; a doctor must survive a helper that
hangs on a keychain prompt or prints megabytes.  So helpers run here with a
deadline, stdin closed after the request, output capped, and whatever the
helper printed is never echoed (it may be a secret).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import threading
import time
from typing import IO, Any

from hardoctor.records import dataclass

NOT_FOUND_TEXT = "credentials not found in native keychain"
OUTPUT_CAP = 256 * 1024
TIMEOUT = 5.0


@dataclass(frozen=True)
class HelperAnswer:
    """Outcome of one helper call.  ``status``: ``ok``, ``not-found``,
    ``missing`` (binary not on PATH), ``failed``, ``timeout``."""

    status: str
    username: str | None = None
    secret: str | None = None
    listing: dict[str, str] | None = None
    detail: str = ""
    binary: str | None = None

    def __repr__(self) -> str:  # never show the secret
        return f"HelperAnswer(status={self.status!r}, username={self.username!r}, detail={self.detail!r})"


def binary_name(helper: str) -> str:
    return f"docker-credential-{helper}"


def find_helper(helper: str, path_env: str | None) -> str | None:
    return shutil.which(binary_name(helper), path=path_env or os.defpath)


def _run(argv: list[str], stdin: bytes, env: dict[str, str], timeout: float) -> tuple[int | None, bytes, str]:
    """Run with a deadline and an output cap.  Returns (rc or None on
    timeout/cap, stdout bytes, reason).

    Portable: stdout is drained by a thread (``selectors`` cannot wait on a
    pipe on Windows), and the helper runs in its own process group (POSIX
    session / Windows ``CREATE_NEW_PROCESS_GROUP``) so that a hanging helper
    and its children are stopped together."""
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            **_new_group(),
        )
    except OSError as exc:
        return None, b"", f"cannot run: {exc.strerror or exc}"
    assert proc.stdin is not None and proc.stdout is not None
    deadline = time.monotonic() + timeout
    out = bytearray()
    capped = threading.Event()
    reader = threading.Thread(target=_drain, args=(proc.stdout, out, capped), daemon=True)
    reader.start()
    try:
        proc.stdin.write(stdin)
        proc.stdin.close()
    except OSError:
        pass
    reader.join(max(0.0, deadline - time.monotonic()))
    reason = ""
    if capped.is_set():
        reason = f"printed more than {OUTPUT_CAP // 1024} KiB"
    elif reader.is_alive():
        reason = f"did not answer within {timeout:g} s"
    if reason:
        _kill(proc)
        reader.join(1.0)
        if not reader.is_alive():  # a grandchild may still hold the pipe: never block on it
            proc.stdout.close()
        return None, bytes(out[:OUTPUT_CAP]), reason
    try:
        rc = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        _kill(proc)
        return None, bytes(out), f"did not exit within {timeout:g} s"
    proc.stdout.close()
    return rc, bytes(out), ""


def _drain(stream: IO[bytes], out: bytearray, capped: threading.Event) -> None:
    """Read until EOF or the cap (then stop reading: the caller kills)."""
    try:
        while True:
            chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            if not chunk:
                return
            out += chunk
            if len(out) > OUTPUT_CAP:
                capped.set()
                return
    except (OSError, ValueError):  # closed under us by _kill
        return


def _new_group() -> dict[str, Any]:
    if os.name == "nt":
        return {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
    return {"start_new_session": True}


def _kill(proc: subprocess.Popen[bytes]) -> None:
    killpg = getattr(os, "killpg", None)  # POSIX only
    try:
        if killpg is None:
            raise OSError
        killpg(proc.pid, 9)
    except OSError:
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=2)


def helper_get(helper: str, server: str, env: dict[str, str], timeout: float = TIMEOUT) -> HelperAnswer:
    path = find_helper(helper, env.get("PATH"))
    binary = binary_name(helper)
    if path is None:
        return HelperAnswer("missing", detail=f"{binary} is not on PATH", binary=binary)
    rc, out, reason = _run([path, "get"], server.encode(), env, timeout)
    if rc is None:
        status = "timeout" if "within" in reason else "failed"
        return HelperAnswer(status, detail=f"{binary} get {reason}", binary=binary)
    text = out.decode("utf-8", "replace")
    if rc != 0:
        if NOT_FOUND_TEXT in text:
            return HelperAnswer("not-found", detail=f"{binary} has no credentials for {server}", binary=binary)
        return HelperAnswer("failed", detail=f"{binary} get exited with status {rc}", binary=binary)
    try:
        data = json.loads(text)
    except ValueError:
        return HelperAnswer("failed", detail=f"{binary} get printed something that is not JSON", binary=binary)
    if not isinstance(data, dict):
        return HelperAnswer("failed", detail=f"{binary} get printed JSON that is not an object", binary=binary)
    user = data.get("Username")
    secret = data.get("Secret")
    if not isinstance(user, str) or not isinstance(secret, str):
        return HelperAnswer("failed", detail=f"{binary} get answered without Username/Secret", binary=binary)
    return HelperAnswer("ok", username=user, secret=secret, binary=binary)


def helper_store(
    helper: str, server: str, username: str, secret: str, env: dict[str, str],
    timeout: float = TIMEOUT,
) -> str | None:
    """``docker-credential-NAME store``: the JSON credential on stdin.
    Returns a secret-free error text, or None on success."""
    path = find_helper(helper, env.get("PATH"))
    binary = binary_name(helper)
    if path is None:
        return f"{binary} is not on PATH"
    body = json.dumps({"ServerURL": server, "Username": username, "Secret": secret}).encode()
    rc, _, reason = _run([path, "store"], body, env, timeout)
    if rc is None:
        return f"{binary} store {reason}"
    if rc != 0:
        return f"{binary} store exited with status {rc}"
    return None


def helper_list(helper: str, env: dict[str, str], timeout: float = TIMEOUT) -> HelperAnswer:
    path = find_helper(helper, env.get("PATH"))
    binary = binary_name(helper)
    if path is None:
        return HelperAnswer("missing", detail=f"{binary} is not on PATH", binary=binary)
    rc, out, reason = _run([path, "list"], b"", env, timeout)
    if rc is None:
        status = "timeout" if "within" in reason else "failed"
        return HelperAnswer(status, detail=f"{binary} list {reason}", binary=binary)
    if rc != 0:
        return HelperAnswer("failed", detail=f"{binary} list exited with status {rc}", binary=binary)
    try:
        data = json.loads(out.decode("utf-8", "replace") or "{}")
    except ValueError:
        return HelperAnswer("failed", detail=f"{binary} list printed something that is not JSON", binary=binary)
    if not isinstance(data, dict):
        return HelperAnswer("failed", detail=f"{binary} list printed JSON that is not an object", binary=binary)
    listing = {str(k): str(v) for k, v in data.items()}
    return HelperAnswer("ok", listing=listing, binary=binary)
