"""Shared by tests/test_fleet*.py: a HOME with two JWT-bearing registry
credentials, and a parser for the text exposition."""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import jwt

#: Never to appear in any output: the canary of every fleet test.
CANARY = "hd-fleet-canary-" + "c4n4ry" * 6


@dataclass(frozen=True)
class FleetHome:
    home: Path
    tokens: dict[str, str]  # registry -> token
    expiry: dict[str, int]  # registry -> exp claim

    def secrets(self) -> list[str]:
        """Every secret form that must never be shown."""
        out = [CANARY]
        for user, token in zip(("alice", "bob"), self.tokens.values(), strict=True):
            out.append(token)
            out.append(base64.b64encode(f"{user}:{token}".encode()).decode())
            out.append(token.split(".")[2])  # the signature alone
        return out


def make_jwt(subject: str, exp: int) -> str:
    claims = {"sub": subject, "exp": exp, "iat": exp - 30 * 86400, "canary": CANARY}
    return jwt.encode(claims, "fleet-test-signing-key-" + "k" * 16, algorithm="HS256")


def fleet_home(home: Path) -> FleetHome:
    """``~/.docker/config.json`` with two registries, each with a JWT as the
    password: one expiring in 3 days, one in 40 (whole seconds)."""
    now = int(time.time())
    expiry = {"reg-a.example:5000": now + 3 * 86400, "reg-b.example": now + 40 * 86400}
    tokens = {
        "reg-a.example:5000": make_jwt("alice", expiry["reg-a.example:5000"]),
        "reg-b.example": make_jwt("bob", expiry["reg-b.example"]),
    }
    auths = {
        reg: {"auth": base64.b64encode(f"{user}:{tokens[reg]}".encode()).decode()}
        for user, reg in zip(("alice", "bob"), tokens, strict=True)
    }
    cfg = home / ".docker" / "config.json"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(json.dumps({"auths": auths}, indent=2) + "\n", encoding="utf-8")
    cfg.chmod(0o600)
    return FleetHome(home, tokens, expiry)


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    """Every sample of metric ``name`` in an exposition: (labels, value)."""
    out = []
    for line in text.splitlines():
        m = _SAMPLE.match(line)
        if not m or m.group(1) != name:
            continue
        labels = {k: _unescape(v) for k, v in _LABEL.findall(m.group(3) or "")}
        out.append((labels, float(m.group(4))))
    return out


def assert_no_secret(text: str, fh: FleetHome, where: str) -> None:
    for secret in fh.secrets():
        assert secret not in text, f"a secret ({secret[:12]}...) appears in {where}"
