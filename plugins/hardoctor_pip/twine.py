"""twine, the upload client (``hardoctor check --push``): which credential
twine sends to which upload URL (:mod:`.twineconf`), the probe (a legacy
upload ``POST`` without a file: pypiserver and PyPI check the credential
first -- 401 without one, 403 for a wrong one -- and answer 400 for the
missing file once it is accepted), and the findings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hardoctor.context import Context
from hardoctor.model import (
    ChainStep,
    Finding,
    Location,
    PluginData,
    ProbeResult,
    Remediation,
    Resolution,
    Secret,
    Target,
    payload_of,
)
from hardoctor.records import dataclass, field

from .model import ECO
from .twineconf import DEFAULT_URLS, ENV_SOURCE, KEY, Repo, TwineView, _host

if TYPE_CHECKING:
    from hardoctor.probe import ProbePlan
    from hardoctor.probe.session import ProbeSession

PREFIX = "twine:"


@dataclass(frozen=True)
class Upload(PluginData):
    """A twine resolution's payload: what it sends where."""

    repo: Repo
    username: str | None = field(default=None, repr=False)
    password: Secret | None = field(default=None, repr=False)


def view(ctx: Context) -> TwineView | None:
    return ctx.stash.get(KEY, None)


def targets(ctx: Context) -> list[Target]:
    v = view(ctx)
    if v is None or not ctx.options.push:
        return []
    return [_target(r) for r in v.chosen()]


def _target(repo: Repo) -> Target:
    return Target(raw=PREFIX + (repo.name or repo.url), kind="registry", host=_host(repo.url),
                  ecosystem=ECO, url=repo.url)


def parse_target(ctx: Context, value: str) -> Target | None:
    """``twine:NAME`` (a .pypirc section) or ``twine:URL``."""
    if not value.lower().startswith(PREFIX):
        return None
    rest = value[len(PREFIX):].strip()
    v = view(ctx)
    if "://" in rest:
        return Target(raw=value, kind="registry", host=_host(rest), ecosystem=ECO, url=rest)
    repo = v.sections.get(rest) if v is not None else None
    url = repo.url if repo is not None else DEFAULT_URLS.get(rest, "")
    return Target(raw=value, kind="registry", host=_host(url) if url else rest, ecosystem=ECO,
                  url=url or None, name=rest)


def resolve(ctx: Context, target: Target) -> Resolution | None:
    v = view(ctx)
    if v is None:
        return None
    rest = target.raw[len(PREFIX):].strip()
    repo = None
    if v.env_url and (rest == v.env_url or "://" not in rest):
        repo = v.chosen()[0]
    elif "://" in rest:
        repo = Repo(None, rest, Location(None, key="--repository-url"))
    else:
        repo = v.sections.get(rest) or (Repo(rest, DEFAULT_URLS[rest], Location(None, key=rest))
                                        if rest in DEFAULT_URLS else None)
    if repo is None:
        return None
    steps: list[ChainStep] = []
    env = ctx.env.environ
    user = env.get("TWINE_USERNAME") or (repo.username if repo.name else None)
    cid, password = _password(v, repo, steps)
    steps.insert(0, ChainStep("TWINE_USERNAME" if env.get("TWINE_USERNAME") else
                              (f"[{repo.name}] username" if repo.username else "username"),
                              "used" if user else "missing",
                              "" if user else "twine asks for it (fails with --non-interactive)",
                              location=Location(None, key="$TWINE_USERNAME")
                              if env.get("TWINE_USERNAME") else repo.user_location))
    cred = next((c for c in v.creds if c.id == cid), None)
    return Resolution(target=target, ecosystem=ECO, client="twine", credential=cred,
                      chain=tuple(steps), registry=_host(repo.url),
                      payload=Upload(repo, user, password))


def _password(v: TwineView, repo: Repo, steps: list[ChainStep]) -> tuple[str | None, Secret | None]:
    env_cid = f"{ENV_SOURCE}#TWINE_PASSWORD"
    if env_cid in v.sent:
        steps.append(ChainStep("TWINE_PASSWORD", "used", "the variable beats .pypirc", env_cid,
                               Location(None, key="$TWINE_PASSWORD")))
        if repo.credential:
            steps.append(ChainStep(f"[{repo.name}] password", "lost", "TWINE_PASSWORD wins",
                                   repo.credential))
        return env_cid, v.sent[env_cid][1]
    if repo.credential:
        steps.append(ChainStep(f"[{repo.name}] password", "used", "from ~/.pypirc",
                               repo.credential))
        return repo.credential, v.sent[repo.credential][1]
    why = ("TWINE_REPOSITORY_URL is set: twine does not read ~/.pypirc" if repo.name is None
           else "no password in the section")
    steps.append(ChainStep("password", "missing", why + "; then the keyring, then a prompt"))
    return None, None


def plan(resolution: Resolution) -> list[ProbePlan]:
    from hardoctor.probe import ProbePlan

    up = payload_of(resolution.payload, Upload)
    if up is None or not up.repo.url:
        return []
    cred = resolution.credential.id if resolution.credential else None
    return [ProbePlan(url=up.repo.url, credential=cred, run=lambda s: _walk(s, up),
                      description=f"twine upload POST {up.repo.url}")]


async def _walk(session: ProbeSession, up: Upload) -> list[ProbeResult]:
    from hardoctor.probe.session import BasicAuth, to_result

    auth = BasicAuth(up.username or "", up.password) if up.password is not None else None
    answer = await session.request(
        "POST", up.repo.url, auth=auth, credential_origin=up.repo.url,
        form={":action": "file_upload", "protocol_version": "1"})
    what = "with the credential" if auth else "without credentials"
    status = getattr(answer, "status", None)
    # 400 after the credential was checked: accepted; only the (absent) file is refused.
    outcome = "ok" if status == 400 and auth is not None else None
    return [to_result(answer, credential=None, outcome=outcome,
                      detail=f"POST {up.repo.url} (upload, no file) {what}")]


def diagnose(ctx: Context, resolution: Resolution, results: Sequence[ProbeResult]) -> list[Finding]:
    from hardoctor.probe.classify import is_transport_outcome
    from hardoctor.probe.rules import transport_finding

    up = payload_of(resolution.payload, Upload)
    v = view(ctx)
    if up is None or v is None:
        return []
    out = _config_findings(ctx, v, up, resolution)
    cred = resolution.credential
    common: dict[str, Any] = dict(
        ecosystem=ECO, registry=resolution.registry, credential=cred.id if cred else None,
        evidence=tuple(r.detail + f" -> {r.status or r.outcome}" for r in results))
    for r in results:
        if is_transport_outcome(r.outcome):
            f = transport_finding(ctx, r, host=resolution.registry, what="the upload URL",
                                  ecosystems=(ECO,), ecosystem=ECO, credential=common["credential"])
            return out + ([f] if f else [])
    status = results[0].status if results else None
    if status is None or status in (200, 201, 400):
        return out  # 400: the credential passed, the (absent) file was refused
    where = cred.location if cred else up.repo.location
    if status == 401 and cred is None:
        if out:
            return out
        return [ctx.finding(
            "PIP110", f"twine has no password for {up.repo.url}, which asks for one (401).",
            location=up.repo.location,
            why="twine asks the keyring, then prompts; in CI (--non-interactive) it stops with "
                "`Credential not found`.",
            remediation=_store(up), **common)]
    if status in (401, 403):
        return out + [ctx.finding(
            "PIP111", f"{up.repo.url} refuses the upload credential from "
            f"{where.display(ctx.home)} ({status}).",
            location=where,
            why="twine fails with `HTTPError: 403 Forbidden` (or 401): the password or token is "
                "wrong, revoked, or the account may not upload here.",
            remediation=_store(up), **common)]
    if status in (404, 405):
        return out + [ctx.finding(
            "PIP112", f"{up.repo.url} is not an upload URL ({status} to an upload POST).",
            location=up.repo.location,
            why="twine POSTs to the repository URL itself; an index (`.../simple/`) or a wrong "
                "path answers 404/405.",
            remediation=Remediation(
                "Use the upload (legacy API) URL: the server root for pypiserver, "
                "https://upload.pypi.org/legacy/ for PyPI, the registry's documented upload URL "
                "otherwise."), **common)]
    return out


def _config_findings(ctx: Context, v: TwineView, up: Upload, res: Resolution) -> list[Finding]:
    out: list[Finding] = []
    repo = up.repo
    if repo.name is None and v.env_url and res.credential is None:
        left = [r for r in v.sections.values() if r.credential and _host(r.url) == _host(v.env_url)]
        if left:
            sec = left[0]
            out.append(ctx.finding(
                "PIP061", f"TWINE_REPOSITORY_URL is set, so twine ignores ~/.pypirc: the "
                f"credentials in [{sec.name}] ({sec.location.display(ctx.home)}) are never sent to "
                f"{v.env_url}.",
                ecosystem=ECO, registry=res.registry, location=sec.location,
                why="With a repository URL twine reads no configuration file; non-interactive it "
                    "stops with `Credential not found for username`.",
                remediation=Remediation(
                    f"Unset TWINE_REPOSITORY_URL and upload with `twine upload -r {sec.name}`, "
                    "or set TWINE_USERNAME and TWINE_PASSWORD.",
                    commands=("unset TWINE_REPOSITORY_URL", f"twine upload -r {sec.name} dist/*"))))
    return out


def lint(ctx: Context, v: TwineView) -> list[Finding]:
    """PIP060: a section twine will not find (not in index-servers)."""
    out = []
    for repo in v.sections.values():
        if repo.listed or repo.name is None:
            continue
        where = (f"[distutils] index-servers (line {v.servers_line})" if v.servers_line
                 else "the default index-servers (pypi testpypi): there is no [distutils]")
        out.append(ctx.finding(
            "PIP060", f"twine cannot use [{repo.name}]: it is not listed in {where}.",
            ecosystem=ECO, registry=_host(repo.url), location=repo.location,
            credential=repo.credential,
            why=f"`twine upload -r {repo.name}` stops with `InvalidConfiguration: Missing "
                f"'{repo.name}' section from ~/.pypirc`.",
            remediation=Remediation(
                f"Add {repo.name} to index-servers under [distutils].",
                steps=("[distutils]\nindex-servers =\n    " + "\n    ".join(
                    dict.fromkeys([*v.servers, repo.name or ""])),))))
    return out


def _store(up: Upload) -> Remediation:
    name = up.repo.name
    if name:
        return Remediation(
            f"Store the right password for [{name}] in ~/.pypirc (mode 0600), or export "
            "TWINE_PASSWORD where twine runs.",
            commands=("read -rs TOKEN", 'export TWINE_USERNAME=USER TWINE_PASSWORD="$TOKEN"'))
    return Remediation("Export the credentials twine sends with TWINE_REPOSITORY_URL.",
                       commands=("read -rs TOKEN",
                                 'export TWINE_USERNAME=USER TWINE_PASSWORD="$TOKEN"'))
