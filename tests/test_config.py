"""Silencing and configuring, ruff's way: --select/--ignore/--extend-ignore,
[tool.hardoctor] / hardoctor.toml / the user config, their precedence
(flags > env > project > user > defaults), plugin options as config keys,
inline `hardoctor: ignore[...]` comments in every format with comments,
`hardoctor config`, and exit 2 with file:line for a broken config."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import run_cli

FILES = {
    ".npmrc": "//npm.example.com/:_authToken=npm_CANARYabcdefghijklmnop012345\n",
    ".netrc": "machine pypi.example.com login u password CANARYnetrcpw1\n",
    "pip.conf": "[global]\nindex-url = https://u:CANARYpipPass2@pypi.example.com/simple/\n",
    ".yarnrc.yml": 'npmRegistries:\n  "https://npm.example.com":\n    npmAuthToken: CANARYyarnTok123456\n',
    "gradle.properties": "mavenPassword=CANARYgradlepw\n",
    "uv.toml": '[[index]]\nname = "corp"\nurl = "https://u:CANARYuvpass1@pypi.example.com/simple/"\n',
    "secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: pull\n"
                   "type: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: "
                   "eyJhdXRocyI6eyJyZWcuZXhhbXBsZS5jb20iOnsiYXV0aCI6ImRYTmxjanBEUVU1QlVsbHJPSE53WVhOek1RPT0ifX19\n",
}
#: The rule each file above triggers, and the line it points at.
EXPECTED = {".npmrc": ("NPM010", 1), ".netrc": ("PIP037", 1), "pip.conf": ("PIP013", 2),
            ".yarnrc.yml": ("NPM037", 3), "gradle.properties": ("MVN010", 1),
            "uv.toml": ("PIP013", 3), "secret.yaml": ("K8S016", 1)}
COMMENT = {".npmrc": "#", ".netrc": "#", "pip.conf": ";", ".yarnrc.yml": "#",
           "gradle.properties": "#", "uv.toml": "#", "secret.yaml": "#"}


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                   env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    work = home / "repo"
    work.mkdir()
    _git(work, "init", "-q")
    for name, text in FILES.items():
        (work / name).write_text(text)
    _git(work, "add", "-A")
    return work


def check(repo: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return run_cli(["check", "--offline", "--scope", "project", "--format", "json", *args],
                   home=repo.parent, cwd=repo, environ=env)


def rules(result: Any) -> list[tuple[str, str, int | None]]:
    doc = json.loads(result.out)
    return sorted((f["rule"], os.path.basename((f["location"] or {}).get("path") or ""),
                   (f["location"] or {}).get("line")) for f in doc["findings"])


def test_every_file_has_its_finding(repo: Path) -> None:
    found = rules(check(repo))
    for name, (code, line) in EXPECTED.items():
        assert (code, name, line) in found, found


@pytest.mark.parametrize("args, gone", [
    (["--ignore", "NPM010"], {"NPM010"}),
    (["--ignore", "npm0,PIP"], {"NPM010", "NPM037", "PIP037", "PIP013", "PIP012"}),
    (["--extend-ignore", "MVN010", "--ignore", "PIP037"], {"MVN010", "PIP037"}),
    (["--select", "PIP"], {"NPM010", "NPM037", "MVN010", "K8S016"}),
    (["--select", "PIP", "--ignore", "PIP0", "--select", "PIP013"],
     {"NPM010", "NPM037", "MVN010", "PIP037", "PIP012", "K8S016"}),
])
def test_flags_select_and_ignore(repo: Path, args: list[str], gone: set[str]) -> None:
    before = {r[0] for r in rules(check(repo))}
    after = {r[0] for r in rules(check(repo, *args))}
    assert after == before - gone


def test_unknown_code_on_the_command_line_exits_2(repo: Path) -> None:
    r = check(repo, "--ignore", "ZZZ999")
    assert r.rc == 2 and "--ignore" in r.err and "ZZZ999" in r.err
    r = check(repo, "--select", "not a code")
    assert r.rc == 2 and "--select" in r.err


def test_pyproject_table_ignores(repo: Path) -> None:
    (repo / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.hardoctor]\n'
                                         'ignore = ["NPM010", "PIP"]\nfail-on = "never"\n')
    r = check(repo)
    assert {x[0] for x in rules(r)} == {"NPM037", "MVN010", "K8S016"}
    assert r.rc == 0  # fail-on = never
    # the flag replaces the configured list (ruff's rule); extend-ignore adds to it
    assert "NPM010" in {x[0] for x in rules(check(repo, "--ignore", "MVN"))}
    assert {x[0] for x in rules(check(repo, "--extend-ignore", "MVN"))} == {"NPM037", "K8S016"}


def test_hardoctor_toml_and_subdirectory(repo: Path) -> None:
    (repo / "hardoctor.toml").write_text('extend-ignore = ["NPM037", "MVN010"]\n')
    sub = repo / "src" / "deep"
    sub.mkdir(parents=True)
    r = run_cli(["check", "--offline", "--scope", "project", "--format", "json",
                 "--project", str(repo)], home=repo.parent, cwd=sub)
    assert {x[0] for x in rules(r)} == {"NPM010", "PIP037", "PIP013", "PIP012", "K8S016"}
    # found from a subdirectory too, as ruff finds its config
    r = run_cli(["config", "--format", "json"], home=repo.parent, cwd=sub)
    assert json.loads(r.out)["files"] == [{"kind": "project", "path": str(repo / "hardoctor.toml")}]


def test_user_config_and_precedence(repo: Path, tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    (xdg / "hardoctor").mkdir(parents=True)
    (xdg / "hardoctor" / "config.toml").write_text(
        'timeout = 11\nfail-on = "warning"\nexpiry-warning = 3\nextend-ignore = ["PIP037"]\n')
    (repo / "hardoctor.toml").write_text('timeout = 12\nextend-ignore = ["MVN010"]\n')
    env = {"XDG_CONFIG_HOME": str(xdg)}

    def settings(*args: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
        r = run_cli(["config", "--format", "json", *args], home=repo.parent, cwd=repo,
                    environ={**env, **(extra or {})})
        assert r.rc == 0, str(r)
        return {s["key"]: s for s in json.loads(r.out)["settings"]}

    s = settings()
    assert s["timeout"]["value"] == 12 and s["timeout"]["origin"] == "project"
    assert s["timeout"]["line"] == 1 and s["timeout"]["path"] == str(repo / "hardoctor.toml")
    assert s["fail-on"]["value"] == "warning" and s["fail-on"]["origin"] == "user"
    assert s["expiry-warning"]["value"] == 3 and s["expiry-warning"]["origin"] == "user"
    assert s["format"]["value"] == "text" and s["format"]["origin"] == "default"
    assert sorted(s["extend-ignore"]["value"]) == ["MVN010", "PIP037"]
    s = settings(extra={"HARDOCTOR_TIMEOUT": "13"})
    assert s["timeout"]["value"] == "13" and s["timeout"]["origin"] == "env"
    # both extend-ignores apply, and the env beats the configs in a real run
    assert {x[0] for x in rules(check(repo, env=env))} == {"NPM010", "NPM037", "PIP013", "PIP012",
                                                           "K8S016"}
    r = check(repo, env={**env, "HARDOCTOR_FAIL_ON": "never"})
    assert r.rc == 0
    assert check(repo, env=env).rc == 1  # fail-on = warning from the user config
    assert check(repo, "--fail-on", "error", env=env).rc == 0  # the flag wins


def test_text_config_command_names_origins(repo: Path) -> None:
    (repo / "pyproject.toml").write_text('[tool.hardoctor]\ntimeout = 9\n')
    r = run_cli(["config"], home=repo.parent, cwd=repo, environ={"COLUMNS": "80"})
    line = next(x for x in r.out.splitlines() if x.strip().startswith("timeout"))
    assert "9" in line and "~/repo/pyproject.toml:2" in line
    assert max(len(x) for x in r.out.splitlines()) <= 80


def test_plugin_option_as_a_config_key(repo: Path) -> None:
    manifests = repo / "deploy"
    manifests.mkdir()
    (manifests / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: pull\ntype: kubernetes.io/dockerconfigjson\n"
        "data:\n  .dockerconfigjson: bm90IGpzb24=\n")
    (repo / "hardoctor.toml").write_text('manifests = ["deploy"]\n')
    sub = repo / "elsewhere"
    sub.mkdir()
    # a relative path in a config file is relative to that file, not the cwd
    r = run_cli(["check", "--offline", "--format", "json", "--project", str(repo)],
                home=repo.parent, cwd=sub)
    doc = json.loads(r.out)
    assert any(s["path"] and s["path"].endswith("secret.yaml") for s in doc["sources"]), r.out[:2000]
    (repo / "hardoctor.toml").write_text('manifests = "deploy"\nkube = "yes"\n')
    r = run_cli(["check", "--offline"], home=repo.parent, cwd=repo)
    assert r.rc == 2 and "hardoctor.toml:2" in r.err and "kube" in r.err


@pytest.mark.parametrize("text, where, what", [
    ('[tool.hardoctor]\nignore = ["NPM010"]\nbogus-key = 1\n', "pyproject.toml:3", "bogus-key"),
    ('[tool.hardoctor]\ntimeout = "soon"\n', "pyproject.toml:2", "timeout"),
    ('[tool.hardoctor]\ntimeout = 9000\n', "pyproject.toml:2", "timeout"),
    ('[tool.hardoctor]\nfail-on = "sometimes"\n', "pyproject.toml:2", "fail-on"),
    ('[tool.hardoctor]\nignore = ["npm 010"]\n', "pyproject.toml:2", "ignore"),
    ('[tool.hardoctor]\nformat = "yaml"\n', "pyproject.toml:2", "format"),
    ('[tool.hardoctor]\nfail-on = "error\n', "pyproject.toml:2", "invalid TOML"),
    ('[tool.hardoctor]\n\ndisable-plugin = ["npm"]\n', "pyproject.toml:3", "HARDOCTOR_DISABLE_PLUGINS"),
    ('[tool.hardoctor]\napply = true\n', "pyproject.toml:2", "apply"),
    ('[tool.hardoctor]\nfail_on = "warning"\nexpiry-warnings = 3\n', "pyproject.toml:3",
     "did you mean 'expiry-warning'"),
])
def test_broken_config_exits_2_with_file_line(repo: Path, text: str, where: str, what: str) -> None:
    (repo / "pyproject.toml").write_text(text)
    for argv in (["check", "--offline"], ["tokens"], ["config"]):
        r = run_cli(argv, home=repo.parent, cwd=repo)
        assert r.rc == 2, (argv, str(r))
        first = r.err.splitlines()[0]
        assert where in first and what in first, first
        assert "CANARY" not in r.err


def test_config_format_for_another_command_is_not_an_error(repo: Path) -> None:
    (repo / "hardoctor.toml").write_text('format = "sarif"\n')
    r = run_cli(["check", "--offline", "--scope", "project"], home=repo.parent, cwd=repo)
    assert r.out.startswith("{")  # check produces SARIF
    r = run_cli(["fix", "--offline", "--scope", "project"], home=repo.parent, cwd=repo)
    assert r.rc in (0, 1) and not r.out.startswith("{")  # fix cannot: its default stays


@pytest.mark.parametrize("name", sorted(FILES))
@pytest.mark.parametrize("placement", ["same-line", "line-above", "bare", "other-code"])
def test_inline_suppression(repo: Path, name: str, placement: str) -> None:
    code, line = EXPECTED[name]
    mark = COMMENT[name]
    lines = FILES[name].splitlines()
    target = lines[line - 1]
    if placement == "same-line":
        lines[line - 1] = f"{target} {mark} hardoctor: ignore[{code}]"
    elif placement == "line-above":
        indent = target[: len(target) - len(target.lstrip())]
        lines.insert(line - 1, f"{indent}{mark} hardoctor: ignore[{code[:3]}, ZZZ999]")
    elif placement == "bare":
        lines.insert(line - 1, f"{mark} hardoctor: ignore")
    else:
        lines.insert(line - 1, f"{mark} hardoctor: ignore[ZZZ999]")
    (repo / name).write_text("\n".join(lines) + "\n")
    codes = {(r[0], r[1]) for r in rules(check(repo))}
    assert ((code, name) in codes) == (placement == "other-code"), codes


def test_xml_comment_suppression(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".m2").mkdir(parents=True)
    settings = home / ".m2" / "settings.xml"
    lines = ["<settings>", "  <servers>", "    <server>", "      <id>corp</id>",
             "      <username>dev</username>", "      <password>CANARYplainpass1</password>",
             "    </server>", "  </servers>", "</settings>"]
    settings.write_text("\n".join(lines) + "\n")
    os.chmod(settings, 0o600)

    def found() -> dict[str, int]:
        r = run_cli(["check", "--offline", "--format", "json", "--ecosystem", "maven"], home=home)
        return {f["rule"]: f["location"]["line"] for f in json.loads(r.out)["findings"]
                if (f["location"] or {}).get("path") == str(settings)}

    first = found()
    assert first, "the fixture must produce a finding on settings.xml"
    code, line = sorted(first.items())[0]
    above = [*lines[: line - 1], f"      <!-- hardoctor: ignore[{code}] -->", *lines[line - 1:]]
    settings.write_text("\n".join(above) + "\n")
    assert code not in found()
    same = list(lines)
    same[line - 1] += f" <!-- hardoctor: ignore[{code}] -->"
    settings.write_text("\n".join(same) + "\n")
    assert code not in found()


def test_a_suppressed_fix_is_not_applied(repo: Path) -> None:
    before = (repo / ".npmrc").read_text()
    r = run_cli(["fix", "--offline", "--scope", "project", "--unsafe", "--ignore", "NPM010"],
                home=repo.parent, cwd=repo)
    assert "NPM_TOKEN" not in r.out
    assert (repo / ".npmrc").read_text() == before


def test_file_level_suppression(repo: Path) -> None:
    found = rules(check(repo))
    assert ("PIP012", "uv.toml", None) in found, found  # about the whole file: no line
    text = (repo / "uv.toml").read_text()
    (repo / "uv.toml").write_text("# hardoctor: ignore-file[PIP012, PIP013]\n" + text)
    found = rules(check(repo))
    assert not [r for r in found if r[1] == "uv.toml"], found
    assert ("PIP037", ".netrc", 1) in found  # other files keep theirs
