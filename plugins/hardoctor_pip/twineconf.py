"""What twine reads to upload: ``~/.pypirc`` and the ``TWINE_*`` variables.

Verified with twine 7.0.0 against pypiserver (tests/test_clients_twine.py):

* ``TWINE_REPOSITORY_URL`` (``--repository-url``) wins and then ``.pypirc``
  is not read at all: its credentials are ignored (non-interactive:
  ``Credential not found for username``).
* Otherwise the repository is ``TWINE_REPOSITORY`` (``-r``; default
  ``pypi``) and must be listed in ``[distutils] index-servers`` (default
  ``pypi testpypi``): a section that exists but is not listed fails with
  ``Missing 'NAME' section from ~/.pypirc``.
* ``TWINE_USERNAME`` / ``TWINE_PASSWORD`` beat the section's
  ``username`` / ``password``; a missing password comes from the keyring
  (not read here), else twine prompts (or fails with ``--non-interactive``).
"""

from __future__ import annotations

import os
from dataclasses import replace

from hardoctor.context import Context
from hardoctor.model import Credential, Location, PluginData, Secret, Source
from hardoctor.records import dataclass, field
from hardoctor.stash import StashKey

from . import ini
from .model import ECO
from .sources import file_source

DEFAULT_URLS = {"pypi": "https://upload.pypi.org/legacy/",
                "testpypi": "https://test.pypi.org/legacy/"}
ENV_SOURCE = "pip:env:TWINE"


@dataclass(frozen=True)
class Repo:
    """One repository twine can upload to."""

    name: str | None  # the .pypirc section; None for TWINE_REPOSITORY_URL
    url: str
    location: Location
    listed: bool = True
    username: str | None = field(default=None, repr=False)
    user_location: Location | None = None
    #: The credential id of the password twine sends (or None).
    credential: str | None = None


@dataclass
class TwineView:
    path: str
    source_id: str | None = None
    ini: ini.IniFile | None = None
    servers: list[str] = field(default_factory=lambda: ["pypi", "testpypi"])
    servers_line: int | None = None
    #: Every section with upload settings, listed or not.
    sections: dict[str, Repo] = field(default_factory=dict)
    env_url: str | None = None
    env_repo: str | None = None
    creds: list[Credential] = field(default_factory=list)
    #: credential id -> (username, password) twine sends.
    sent: dict[str, tuple[str, Secret]] = field(default_factory=dict, repr=False)

    def chosen(self) -> list[Repo]:
        """The repositories to check: TWINE_REPOSITORY_URL alone when set,
        else the selected one or every section with an upload URL."""
        if self.env_url:
            return [self._env_repo()]
        if self.env_repo:
            repo = self.sections.get(self.env_repo)
            return [repo] if repo is not None else []
        return [r for r in self.sections.values() if r.name not in DEFAULT_URLS or r.credential]

    def _env_repo(self) -> Repo:
        assert self.env_url is not None
        cid = f"{ENV_SOURCE}#TWINE_PASSWORD" if f"{ENV_SOURCE}#TWINE_PASSWORD" in self.sent \
            else None
        return Repo(None, self.env_url, Location(None, key="$TWINE_REPOSITORY_URL"),
                    credential=cid)


@dataclass(frozen=True)
class PypircPayload(PluginData):
    """The ``Source.payload`` of ``~/.pypirc``."""

    kind: str = "pypirc"


KEY: StashKey[TwineView] = StashKey("pip.twine")


def read(ctx: Context, sources: list[Source]) -> TwineView:
    path = os.path.join(ctx.home, ".pypirc")
    view = TwineView(path=path)
    env = ctx.env.environ
    view.env_url = (env.get("TWINE_REPOSITORY_URL") or "").strip() or None
    view.env_repo = (env.get("TWINE_REPOSITORY") or "").strip() or None
    sid = f"pip:pypirc:{path}"
    src, text = file_source(ctx, sid, path, "twine configuration (~/.pypirc)")
    if src is not None:
        sources.append(replace(src, payload=PypircPayload()))
        view.source_id = sid
        if text is not None:
            view.ini = ini.parse(text)
            _sections(view, sid)
    env_pw = env.get("TWINE_PASSWORD")
    if any(env.get(v) for v in ("TWINE_REPOSITORY_URL", "TWINE_USERNAME", "TWINE_PASSWORD",
                                "TWINE_REPOSITORY")):
        sources.append(Source(id=ENV_SOURCE, ecosystem=ECO, kind="env",
                              description="TWINE_* environment variables", path=None))
    if env_pw:
        _env_credential(view, env.get("TWINE_USERNAME"), env_pw)
    ctx.stash[KEY] = view
    return view


def _sections(view: TwineView, sid: str) -> None:
    doc = view.ini
    assert doc is not None
    if doc.error is not None:
        return
    servers = doc.get("distutils", "index-servers")
    if servers is not None:
        view.servers = servers.value.split()
        view.servers_line = servers.line
    for name, sec in doc.sections.items():
        if name in ("distutils", ini.DEFAULT):
            continue
        repo_opt = sec.options.get("repository")
        url = repo_opt.value.strip() if repo_opt is not None else DEFAULT_URLS.get(name)
        if not url:
            continue
        user = sec.options.get("username")
        pw = sec.options.get("password")
        cid = None
        if pw is not None and pw.value:
            cid = f"{sid}#[{name}]"
            username = user.value if user is not None else ""
            view.sent[cid] = (username, Secret(pw.value))
            view.creds.append(Credential(
                id=cid, ecosystem=ECO, registry=url, host=_host(url), source=sid,
                location=Location(view.path, pw.line, None, key=f"[{name}] password"),
                username=username or None, secret=Secret(pw.value), scheme="basic",
                via=f"[{name}] password", clients=("twine",)))
        view.sections[name] = Repo(
            name, url, Location(view.path, (repo_opt.line if repo_opt else sec.line), None,
                                key=f"[{name}]"),
            listed=name in view.servers, username=user.value if user is not None else None,
            user_location=Location(view.path, user.line, None, key=f"[{name}] username")
            if user is not None else None, credential=cid)


def _env_credential(view: TwineView, user: str | None, password: str) -> None:
    cid = f"{ENV_SOURCE}#TWINE_PASSWORD"
    url = view.env_url or ""
    view.sent[cid] = (user or "", Secret(password))
    view.creds.append(Credential(
        id=cid, ecosystem=ECO, registry=url, host=_host(url) if url else "",
        source=ENV_SOURCE, location=Location(None, key="$TWINE_PASSWORD"),
        username=user or None, secret=Secret(password), scheme="basic", via="TWINE_PASSWORD",
        clients=("twine",)))


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return (parts.netloc.rsplit("@", 1)[-1] or url).lower()
