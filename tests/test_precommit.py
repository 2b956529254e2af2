"""The pre-commit hook (``.pre-commit-hooks.yaml``), run for real.

A snapshot of this checkout (``pyproject.toml``, ``README.md``, ``src/``,
``plugins/``, ``.pre-commit-hooks.yaml``) is committed to a scratch git
repository: that is the hook repository.  A throw-away project built from
``tests/fixtures/precommit-repo/`` uses it in its ``.pre-commit-config.yaml``
(``repo:`` + ``rev:``), runs ``pre-commit install`` and then plain
``git commit``: pre-commit builds its own virtualenv and pip-installs
hardoctor from the hook repository (from PyPI: hatchling and the
dependencies), exactly as on a developer's machine.  The install happens
once per module.

What must hold: a clean commit passes; a commit that adds a plaintext token
(npm, pip, Maven/Gradle) or a broken pull secret (Kubernetes, through
``args: [--manifests, deploy/]``) is refused, HEAD does not move, the hook
output names the rule, and no secret is printed; a commit that touches no
credential file does not run the hook at all.  A scenario is skipped while
no rule flags it (a committed ``.docker/config.json`` today): the test then
starts checking by itself once a plugin reports it.
"""

from __future__ import annotations

import base64
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from tests.helpers import FIXTURES, IN_CI, ROOT, run_cli
from tests.test_no_leaks import canary_forms

FIXTURE = FIXTURES / "precommit-repo"
HOOKS_FILE = ROOT / ".pre-commit-hooks.yaml"
HOOK_NAME = "hardoctor (registry credentials)"
ENV_TOKEN = "hdfake-precommit-envtoken-0009"

#: scenario -> (file it adds, the secret it holds, the user of that secret)
SCENARIOS: dict[str, tuple[str, str, str | None]] = {
    "npm": (".npmrc", "hdfake-precommit-npm-0001", None),
    "pip": ("requirements.txt", "hdfake-precommit-pip-0002", "ci-bot"),
    "maven": ("gradle.properties", "hdfake-precommit-gradle-0003", None),
    "k8s": ("deploy/app.yaml", "hdfake-precommit-k8s-0005", None),
    "docker": (".docker/config.json", "hdfake-precommit-docker-0004", "ci-bot"),
    # Files no client reads from the repository: the secret is committed all the same.
    "pipconf": ("ci/pip.conf", "hdfake-precommit-pipconf-0011", "ci-bot"),
    "pipini": ("pip.ini", "hdfake-precommit-pipini-0012", "ci-bot"),
    "netrc": (".netrc", "hdfake-precommit-netrc-0013", "ci-bot"),
    "yarn": (".yarnrc.yml", "hdfake-precommit-yarn-0014", None),
    "authjson": ("auth.json", "hdfake-precommit-authjson-0015", "ci-bot"),
    "docker-nested": ("tools/ci/.docker/config.json", "hdfake-precommit-dockernested-0016",
                      "ci-bot"),
    "k8s-secret": ("k8s/regcred.yaml", "hdfake-precommit-k8ssecret-0017", "ci-bot"),
}

#: The committer's own logins, in every client's home file: --scope project
#: must not read them (no target, finding or shadowing from HOME).
def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


HOME_SECRETS = {
    ".docker/config.json": f'{{"auths": {{"registry.example.test": {{"auth": "{_b64("me:hdfake-home-docker-0101")}"}}, '
                           f'"https://index.docker.io/v1/": {{"auth": "{_b64("me:hdfake-home-docker-0102")}"}}}}}}',
    ".npmrc": "//npm.example.test/:_authToken=hdfake-home-npm-0103\n"
              "//registry.npmjs.org/:_authToken=hdfake-home-npm-0104\n",
    ".yarnrc.yml": "npmAuthToken: hdfake-home-yarn-0105\n",
    ".config/pip/pip.conf": "[global]\nindex-url = https://me:hdfake-home-pip-0106@pypi.example.test/simple\n",
    ".netrc": "machine pypi.example.test login me password hdfake-home-netrc-0107\n",
    ".m2/settings.xml": "<settings><servers><server><id>har</id><username>me</username>"
                        "<password>hdfake-home-maven-0108</password></server></servers></settings>\n",
    ".gradle/gradle.properties": "harUsername=me\nharPassword=hdfake-home-gradle-0109\n",
    ".config/containers/auth.json":
        f'{{"auths": {{"quay.example.test": {{"auth": "{_b64("me:hdfake-home-podman-0110")}"}}}}}}',
}


def fill_home(home: Path) -> None:
    """A HOME full of logins (files 0600, as the clients write them)."""
    for rel, text in HOME_SECRETS.items():
        path = home / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)


def home_canaries() -> set[str]:
    found = set()
    for text in HOME_SECRETS.values():
        for m in re.finditer(r"hdfake-home-[a-z]+-\d+", text):
            found |= canary_forms(m.group(0), "me")
    return found


#: Variables of the real environment that would make the hook read this
#: machine's credentials instead of the scratch HOME's.
_DROP = re.compile(
    r"^(HARDOCTOR_|DOCKER_|NPM_|npm_config_|NPM_CONFIG_|YARN_|PIP_INDEX|PIP_EXTRA_INDEX|UV_|"
    r"POETRY_|MAVEN_|GRADLE_|ORG_GRADLE_PROJECT_|KUBECONFIG$|NETRC$|REGISTRY_AUTH_FILE$|"
    r"HARNESS_|XDG_CONFIG_HOME$|XDG_RUNTIME_DIR$|GIT_|PRE_COMMIT)"
)


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def _git(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def _ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, f"{proc.args}: rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


# -- the hook definition itself (fast) --------------------------------------------------------


def _hook() -> dict[str, object]:
    hooks = yaml.safe_load(HOOKS_FILE.read_text(encoding="utf-8"))
    assert isinstance(hooks, list)
    ours = [h for h in hooks if h.get("id") == "hardoctor"]
    assert len(ours) == 1, hooks
    hook: dict[str, object] = ours[0]
    return hook


def test_hook_definition() -> None:
    hook = _hook()
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False  # file names would be taken for TARGETs
    assert hook.get("always_run", False) is False
    entry = str(hook["entry"]).split()
    assert entry[:2] == ["hardoctor", "check"]
    for flag in ("--offline", "--project", "--fail-on"):
        assert flag in entry, entry
    assert entry[entry.index("--project") + 1] == "."
    assert entry[entry.index("--fail-on") + 1] == "warning"  # plaintext tokens are warnings


@pytest.mark.parametrize("path", [
    ".npmrc", "web/.npmrc", ".yarnrc.yml", "pip.conf", "requirements.txt",
    "requirements-dev.txt", "requirements/test.txt", "pyproject.toml", "settings.xml",
    "pom.xml", ".mvn/maven.config", "gradle.properties", "app/build.gradle.kts",
    ".docker/config.json", "deploy/app.yaml", "k8s/secret.yml",
])
def test_files_regex_matches_credential_files(path: str) -> None:
    assert re.search(str(_hook()["files"]), path), path


@pytest.mark.parametrize("path", ["README.md", "src/app.py", "config.json", "x.npmrc.bak",
                                  "docs/requirements.md", "package.json"])
def test_files_regex_skips_other_files(path: str) -> None:
    assert not re.search(str(_hook()["files"]), path), path


def test_manifest_is_valid_for_pre_commit() -> None:
    if importlib.util.find_spec("pre_commit") is None:
        _missing("pre-commit is not installed (scripts/install-ci-deps.sh)")
    argv = [sys.executable, "-m", "pre_commit", "validate-manifest", str(HOOKS_FILE)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- the real thing (slow) --------------------------------------------------------------------


class World:
    """The hook repository, pre-commit's cache and an environment."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.hook_repo = root / "hook-repo"
        self.home = root / "home"
        self.home.mkdir(mode=0o700)
        fill_home(self.home)
        env = {k: v for k, v in os.environ.items() if not _DROP.match(k)}
        real_home = os.path.expanduser("~")
        env.update({
            "HOME": str(self.home),
            "PRE_COMMIT_HOME": str(root / "pre-commit-cache"),
            # pip's download cache is shared with the real user: it only speeds
            # up pre-commit's virtualenv install.
            "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR",
                                            os.path.join(real_home, ".cache", "pip")),
            "GIT_AUTHOR_NAME": "hd test", "GIT_AUTHOR_EMAIL": "hd@example.test",
            "GIT_COMMITTER_NAME": "hd test", "GIT_COMMITTER_EMAIL": "hd@example.test",
            "GIT_CONFIG_NOSYSTEM": "1",
            "NO_COLOR": "1",
            # NPM_TOKEN is not set: the clean .npmrc's ${NPM_TOKEN} is right as committed.
            # pre-commit pip-installs the hook: not through the fake index of HOME's pip.conf
            # (an existing PIP_CONFIG_FILE makes pip skip the per-user files).
            "PIP_CONFIG_FILE": str(self._empty_pip_conf()),
        })
        self.env = env
        self.rev = self._make_hook_repo()
        self.warmup = ""

    def _empty_pip_conf(self) -> Path:
        path = self.root / "pip-empty.conf"
        path.write_text("", encoding="utf-8")
        return path

    def _make_hook_repo(self) -> str:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
        self.hook_repo.mkdir()
        for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
            shutil.copy2(ROOT / name, self.hook_repo / name)
        for name in ("src", "plugins"):
            shutil.copytree(ROOT / name, self.hook_repo / name, ignore=ignore)
        _ok(_git("init", "-q", "-b", "main", cwd=self.hook_repo, env=self.env))
        _ok(_git("add", "-A", cwd=self.hook_repo, env=self.env))
        _ok(_git("commit", "-q", "--no-verify", "-m", "hardoctor snapshot", cwd=self.hook_repo,
                 env=self.env))
        return _ok(_git("rev-parse", "HEAD", cwd=self.hook_repo, env=self.env)).strip()

    def project(self, name: str) -> Path:
        """A new repository holding ``base/`` with pre-commit installed; nothing
        committed yet."""
        repo = self.root / name
        shutil.copytree(FIXTURE / "base", repo)
        template = repo / ".pre-commit-config.yaml.in"
        config = template.read_text(encoding="utf-8")
        config = config.replace("@HOOK_REPO@", str(self.hook_repo)).replace("@HOOK_REV@", self.rev)
        (repo / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
        template.unlink()
        _ok(_git("init", "-q", "-b", "main", cwd=repo, env=self.env))
        _ok(self.run([sys.executable, "-m", "pre_commit", "install"], repo))
        return repo

    def run(self, argv: list[str], cwd: Path,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, cwd=cwd, env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False)

    def commit(self, repo: Path, message: str) -> tuple[subprocess.CompletedProcess[str], str]:
        _ok(_git("add", "-A", cwd=repo, env=self.env))
        proc = self.run(["git", "commit", "-m", message], repo)
        return proc, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if shutil.which("git") is None:
        _missing("git is not installed")
    if importlib.util.find_spec("pre_commit") is None:
        _missing("pre-commit is not installed (scripts/install-ci-deps.sh)")
    w = World(tmp_path_factory.mktemp("precommit"))
    # The first commit of a clean project installs the hook environment (the
    # slow part, once); every later commit reuses it.
    repo = w.project("warmup")
    proc, out = w.commit(repo, "base")
    if proc.returncode != 0 and HOOK_NAME not in out:
        pytest.fail(f"pre-commit could not install the hook:\n{out}", pytrace=False)
    w.warmup = out
    yield w


def _head(repo: Path, env: dict[str, str]) -> str:
    return _ok(_git("rev-parse", "HEAD", cwd=repo, env=env)).strip()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_installed_hook_loads_every_plugin(world: World) -> None:
    """What pip installs from the hook repository is complete: every
    built-in plugin imports and runs (a runtime dependency missing from
    pyproject.toml shows up here first, as HD001 or HD002)."""
    problems = re.findall(r".*(?:hardoctor: warning: plugin |HD001 |HD002 |ModuleNotFoundError).*",
                          world.warmup)
    assert not problems, (
        "the pip-installed hook cannot load a plugin -- is a runtime dependency missing from "
        "[project] dependencies in pyproject.toml?\n" + "\n".join(problems)
    )


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_clean_commit_passes(world: World) -> None:
    repo = world.project("clean")
    proc, out = world.commit(repo, "base")
    assert proc.returncode == 0, out
    assert re.search(re.escape(HOOK_NAME) + r"\.*Passed", out), out
    _head(repo, world.env)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_commit_without_credential_files_skips_the_hook(world: World) -> None:
    repo = world.project("docs-only")
    _ok(_git("add", "-A", cwd=repo, env=world.env))
    _ok(_git("commit", "-q", "--no-verify", "-m", "base", cwd=repo, env=world.env))
    (repo / "README.md").write_text("# demo\n\nOnly documentation changed.\n", encoding="utf-8")
    # A token in a file that no client reads is not hardoctor's business,
    # and the hook does not even start.
    (repo / "notes.txt").write_text("hdfake-precommit-notes-0010\n", encoding="utf-8")
    proc, out = world.commit(repo, "docs")
    assert proc.returncode == 0, out
    assert re.search(re.escape(HOOK_NAME) + r"\.*\(no files to check\)Skipped", out), out


def hook_argv() -> list[str]:
    """The hook's command line as pre-commit runs it: ``entry`` + ``args``
    (none by default), without the program name."""
    hook = _hook()
    argv = str(hook["entry"]).split() + [str(a) for a in hook.get("args", []) or []]
    assert argv[0] == "hardoctor"
    return argv[1:]


def _expected_codes(repo: Path, home: Path, rel: str) -> dict[str, str]:
    """The rules (-> cause) hardoctor itself reports about ``rel`` in
    ``repo``, run in-process exactly as the hook will run it."""
    r = run_cli([*hook_argv(), "--format", "json"], home=home, cwd=repo)
    assert r.rc in (0, 1), str(r)
    target = os.path.realpath(repo / rel)
    codes = {}
    for f in r.report()["findings"]:
        loc = f["location"] or {}
        path = loc.get("path")
        if f["severity"] in ("error", "warning") and path and os.path.realpath(path) == target:
            codes[f["rule"]] = f["cause"]
    return codes


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_plaintext_secret_commit_is_refused(world: World, scenario: str) -> None:
    rel, secret, user = SCENARIOS[scenario]
    repo = world.project(f"leak-{scenario}")
    _ok(_git("add", "-A", cwd=repo, env=world.env))
    _ok(_git("commit", "-q", "--no-verify", "-m", "base", cwd=repo, env=world.env))
    before = _head(repo, world.env)
    shutil.copytree(FIXTURE / "leaky" / scenario, repo, dirs_exist_ok=True)
    _ok(_git("add", "-A", cwd=repo, env=world.env))  # staged: what `git ls-files` sees
    codes = _expected_codes(repo, world.home, rel)
    assert codes, f"no rule flags a committed {rel} ({scenario})"

    proc, out = world.commit(repo, f"add {rel}")
    assert proc.returncode == 1 or proc.returncode != 0, out
    assert _head(repo, world.env) == before, "the commit went through"
    assert re.search(re.escape(HOOK_NAME) + r"\.*Failed", out), out
    for code in codes:
        assert re.search(rf"\b{code} [a-z0-9-]+", out), f"{code} not named in:\n{out}"
    assert rel in out or os.path.basename(rel) in out, f"{rel} not named in:\n{out}"
    for form in canary_forms(secret, user) | home_canaries():
        assert form not in out, f"a secret ({form!r}) is in the hook output:\n{out}"
    assert "Traceback" not in out, out


# -- the hook's own command line, in-process (fast) -------------------------------------------


@pytest.fixture()
def logged_in_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    fill_home(home)
    return home


def _repo(root: Path, scenario: str | None) -> Path:
    """``base/`` (+ ``leaky/SCENARIO/``) in a fresh git repository, staged."""
    if shutil.which("git") is None:
        _missing("git is not installed")
    repo = root / (scenario or "clean")
    shutil.copytree(FIXTURE / "base", repo)
    (repo / ".pre-commit-config.yaml.in").unlink()
    if scenario is not None:
        shutil.copytree(FIXTURE / "leaky" / scenario, repo, dirs_exist_ok=True)
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(root),
           "GIT_CONFIG_NOSYSTEM": "1"}
    _ok(_git("init", "-q", cwd=repo, env=env))
    _ok(_git("add", "-A", cwd=repo, env=env))
    return repo


def test_hook_passes_a_clean_repository_with_home_full_of_logins(
        tmp_path: Path, logged_in_home: Path) -> None:
    """The recommended setup (``${NPM_TOKEN}`` in .npmrc and .yarnrc.yml,
    NPM_TOKEN not exported) passes, whatever the committer's HOME holds:
    no DKR020 for a registry only HOME names, no NPM012 shadowing, no
    NPM006 env-unset error."""
    repo = _repo(tmp_path, None)
    r = run_cli(hook_argv(), home=logged_in_home, cwd=repo)
    assert r.rc == 0, str(r)
    report = run_cli([*hook_argv(), "--format", "json"], home=logged_in_home, cwd=repo).report()
    home = os.path.realpath(logged_in_home)
    for src in report["sources"]:
        assert not os.path.realpath(src.get("path") or repo).startswith(home + os.sep), src
    for f in report["findings"]:
        assert f["severity"] == "info", f
        assert f["rule"] not in ("DKR020", "NPM012"), f
    for form in home_canaries():
        assert form not in r.out + r.err


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_hook_refuses_each_committed_secret(tmp_path: Path, logged_in_home: Path,
                                            scenario: str) -> None:
    rel, secret, user = SCENARIOS[scenario]
    repo = _repo(tmp_path, scenario)
    r = run_cli(hook_argv(), home=logged_in_home, cwd=repo)
    assert r.rc == 1, str(r)
    assert rel in r.out, f"{rel} not named:\n{r.out}"
    codes = _expected_codes(repo, logged_in_home, rel)
    assert "insecure-storage" in codes.values() or scenario == "k8s", codes
    for form in canary_forms(secret, user) | home_canaries():
        assert form not in r.out + r.err, f"a secret ({form!r}) is in the output"


def test_only_what_git_tracks_is_a_committed_secret(tmp_path: Path, logged_in_home: Path) -> None:
    """An untracked file is not being committed: not reported."""
    repo = _repo(tmp_path, None)
    shutil.copytree(FIXTURE / "leaky" / "docker-nested", repo, dirs_exist_ok=True)
    shutil.copytree(FIXTURE / "leaky" / "pipconf", repo, dirs_exist_ok=True)
    r = run_cli(hook_argv(), home=logged_in_home, cwd=repo)
    assert r.rc == 0, str(r)


def test_docs_show_the_hook_as_defined() -> None:
    """docs/ci.md quotes the hook's command line and the files it runs on."""
    docs = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    entry = str(_hook()["entry"])
    assert entry in docs, f"docs/ci.md does not show the hook's entry: {entry}"
    for name in ("pip.conf", "pip.ini", ".netrc", ".yarnrc.yml", "auth.json",
                 ".docker/config.json", "--scope project"):
        assert name in docs, name
    assert "export it, or skip once" not in docs.lower()


def test_hook_passes_committed_references_of_every_client(tmp_path: Path,
                                                          logged_in_home: Path) -> None:
    """`${VAR}` references are how credentials belong in a repository: pip's
    requirements files (pip expands them), Maven's ${env.X}, npm and Yarn --
    none of them is an error when the committing shell lacks the variable."""
    repo = _repo(tmp_path, None)
    (repo / "requirements.txt").write_text(
        "--index-url https://${PIP_USER}:${PIP_TOKEN}@pypi.example.test/simple\nrequests==2.31.0\n")
    (repo / "settings.xml").write_text(
        "<settings><servers><server><id>corp</id><username>${env.MVN_USER}</username>"
        "<password>${env.MVN_TOKEN}</password></server></servers></settings>\n")
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(tmp_path),
           "GIT_CONFIG_NOSYSTEM": "1"}
    _ok(_git("add", "-A", cwd=repo, env=env))
    r = run_cli(hook_argv(), home=logged_in_home, cwd=repo)
    assert r.rc == 0, str(r)
