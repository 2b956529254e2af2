"""Which AWS identity ``docker-credential-ecr-login`` would find, read from
the local AWS configuration only (no network, no secret kept): so a failing
helper's finding can say *which* failure mode it is.

The AWS SDK's default chain (as the helper uses it): environment keys
(``AWS_ACCESS_KEY_ID``), web identity (``AWS_WEB_IDENTITY_TOKEN_FILE``),
container credentials, the profile ``AWS_PROFILE`` (else ``default``) of
``~/.aws/config`` / ``~/.aws/credentials`` (``AWS_CONFIG_FILE`` and
``AWS_SHARED_CREDENTIALS_FILE`` override the paths), an SSO profile's
cached token ``~/.aws/sso/cache/<sha1>.json`` (``expiresAt``), the
instance role.  docs/vendors/aws-ecr.md.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
from datetime import datetime
from typing import TYPE_CHECKING

from hardoctor.files import read_file
from hardoctor.records import dataclass
from hardoctor.stash import StashKey

if TYPE_CHECKING:
    from hardoctor.context import Context


@dataclass(frozen=True)
class AwsState:
    #: ``missing-profile``, ``sso-expired``, ``no-credentials``, ``env``,
    #: ``role``, ``profile`` or ``sso``.
    mode: str
    profile: str
    detail: str = ""


STATE: StashKey[AwsState] = StashKey("ecr.aws_state")


def _sections(ctx: Context, path: str, config: bool) -> dict[str, dict[str, str]]:
    data = read_file(ctx, path, max_bytes=256 * 1024)
    if data is None or data.error or data.text is None:
        return {}
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(data.text)
    except configparser.Error:
        return {}
    out: dict[str, dict[str, str]] = {}
    for name in parser.sections():
        key = name.removeprefix("profile ").strip() if config else name.strip()
        out[key] = {k: v for k, v in parser.items(name)
                    if k in ("sso_start_url", "sso_session", "role_arn", "credential_process",
                             "source_profile", "region")}
        if not config:
            out[key]["has_keys"] = "1" if parser.has_option(name, "aws_access_key_id") else ""
    if config:
        for name in parser.sections():
            if name.startswith("sso-session "):
                out.setdefault("sso-session:" + name[12:].strip(), {
                    k: v for k, v in parser.items(name) if k == "sso_start_url"})
    return out


def _sso_expired(ctx: Context, home: str, key: str) -> datetime | None:
    """The cached SSO token's ``expiresAt`` when it has passed (None when it
    has not, or there is no cache: then the session was never started)."""
    name = hashlib.sha1(key.encode()).hexdigest() + ".json"  # noqa: S324 - the SDK's cache name
    data = read_file(ctx, os.path.join(home, ".aws", "sso", "cache", name), max_bytes=64 * 1024)
    if data is None or data.text is None:
        return datetime.min
    try:
        raw = json.loads(data.text).get("expiresAt", "")
        at = datetime.fromisoformat(str(raw).replace("Z", "+00:00").replace("UTC", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return at if at <= ctx.now() else None


def aws_state(ctx: Context) -> AwsState:
    if STATE in ctx.stash:
        return ctx.stash[STATE]
    state = _read(ctx)
    ctx.stash[STATE] = state
    return state


def _read(ctx: Context) -> AwsState:
    env = ctx.getenv
    home = ctx.home or ""
    profile = env("AWS_PROFILE") or env("AWS_DEFAULT_PROFILE") or "default"
    if env("AWS_ACCESS_KEY_ID"):
        return AwsState("env", profile, "AWS_ACCESS_KEY_ID is set")
    if env("AWS_WEB_IDENTITY_TOKEN_FILE") or env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") or env(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        return AwsState("role", profile, "a web-identity or container role")
    config = _sections(ctx, env("AWS_CONFIG_FILE") or os.path.join(home, ".aws", "config"), True)
    creds = _sections(ctx, env("AWS_SHARED_CREDENTIALS_FILE")
                      or os.path.join(home, ".aws", "credentials"), False)
    section = {**config.get(profile, {}), **creds.get(profile, {})}
    if profile not in config and profile not in creds:
        if profile != "default":
            return AwsState("missing-profile", profile,
                            f"AWS_PROFILE={profile} names no profile in ~/.aws/config or "
                            "~/.aws/credentials")
        return AwsState("no-credentials", profile, "no environment keys, no ~/.aws profile")
    session = section.get("sso_session")
    start = section.get("sso_start_url") or config.get(f"sso-session:{session}", {}).get(
        "sso_start_url")
    if session or start:
        expired = _sso_expired(ctx, home, session or start or "")
        if expired is not None:
            when = "" if expired == datetime.min else f" (expired {expired:%Y-%m-%d %H:%M})"
            return AwsState("sso-expired", profile,
                            f"the SSO session of profile {profile} is not logged in{when}")
        return AwsState("sso", profile, f"profile {profile} uses SSO")
    if section.get("has_keys") or section.get("role_arn") or section.get("credential_process"):
        return AwsState("profile", profile, f"profile {profile}")
    return AwsState("no-credentials", profile, f"profile {profile} holds no credentials")
