"""The npm plugin offline: npm's ini/env/nerf-dart semantics, layering and
resolution, every lint rule with its cause and line, Yarn Berry and pnpm,
and fixes that keep every unrelated byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import assert_valid_report, run_cli

from hardoctor_npm import envsubst, ini
from hardoctor_npm.nerf import nerf_dart, packument_url, parse_url, split_key, walk

REG = "https://npm.example.test/"
TOK = "npm_FAKEfakeFAKEfake0123456789"


def home_with(home: Path, text: str, name: str = ".npmrc", mode: int = 0o600) -> Path:
    path = home / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def check(home: Path, *args: str, environ: dict[str, str] | None = None,
          cwd: Path | None = None) -> dict:
    env = {"npm_config_globalconfig": str(home / "no-global-npmrc"), **(environ or {})}
    res = run_cli(["check", "--offline", "--format", "json", *args], home=home, cwd=cwd,
                  environ=env)
    assert res.rc in (0, 1), res
    assert "Traceback" not in res.err
    return assert_valid_report(res.out)


def rules(report: dict) -> dict[str, dict]:
    return {f["rule"]: f for f in report["findings"]}


# -- npm's parsing rules ------------------------------------------------------------


def test_ini_like_npm() -> None:
    doc = ini.parse(
        "\ufeff; comment\n# another\n"
        "a = 1 ; trailing comment\n"
        'b = "quoted ; not a comment"\n'
        "c = 'single'\n"
        "d = esc\\;aped\n"
        "list[] = x\nlist[] = y\n"
        "flag\n"
        "t = true\n"
        "a = 2\n"
        "[section]\n"
        "//h/:_authToken = hidden\n"
    )
    assert doc.values["a"] == "2"
    assert doc.values["b"] == "quoted ; not a comment"
    assert doc.values["c"] == "single"
    assert doc.values["d"] == "esc;aped"
    assert doc.values["list"] == ["x", "y"]
    assert doc.values["flag"] is True and doc.values["t"] is True
    assert "//h/:_authToken" not in doc.values  # inside a section
    hidden = [e for e in doc.entries if e.section == "section"]
    assert hidden and hidden[0].line == 13
    a = doc.by_key["a"]
    assert [e.line for e in a] == [3, 11]
    text = doc.text
    assert text[a[0].value_start:a[0].value_end] == "1"
    assert text[a[0].key_start:a[0].key_end] == "a"


def test_env_expansion_like_npm() -> None:
    env = {"SET": "v", "EMPTY": ""}
    assert envsubst.npm("${SET}", env).value == "v"
    unset = envsubst.npm("${NOPE}", env)
    assert unset.value == "${NOPE}" and unset.refs[0].literal
    assert envsubst.npm("${NOPE?}", env).value == ""
    assert envsubst.npm("\\${SET}", env).value == "${SET}"
    assert envsubst.npm("\\\\${SET}", env).value == "\\v"
    dflt = envsubst.npm("${NOPE:-x}", env)
    assert dflt.value == "${NOPE:-x}" and dflt.refs[0].default_syntax
    assert envsubst.pnpm("${NOPE:-x}", env).value == "x"
    assert envsubst.yarn("${NOPE:-x}", env).value == "x"
    assert envsubst.yarn("${NOPE}", env).refs[0].fatal
    assert envsubst.yarn("${EMPTY:-d}", env).value == "d"


def test_nerf_dart_and_walk() -> None:
    assert nerf_dart("https://Reg.Example.COM:443/a/b") == "//reg.example.com/a/"
    assert nerf_dart("https://reg.example.com/a/b/") == "//reg.example.com/a/b/"
    assert nerf_dart("http://h:80/") == "//h/"
    assert nerf_dart("http://h:8080") == "//h:8080/"
    assert nerf_dart("pkg.harness.io/pkg/a") is None
    assert walk("https://h/pkg/a/r/npm/x") == [
        "//h/pkg/a/r/npm/x", "//h/pkg/a/r/npm/", "//h/pkg/a/r/npm", "//h/pkg/a/r/",
        "//h/pkg/a/r", "//h/pkg/a/", "//h/pkg/a", "//h/pkg/", "//h/pkg", "//h/", "//h"]
    assert packument_url("https://h/r/", "@s/p") == "https://h/r/@s%2fp"
    assert split_key("//h:8080/p/:_authToken") == ("//h:8080/p/", "_authToken")
    assert parse_url("https://h/a/../b/./c").path == "/b/c"  # type: ignore[union-attr]


# -- rules with cause and line -----------------------------------------------------------

CASES = [
    # npmrc text, extra args, rule, cause, line
    (f"registry={REG}\n_authToken={TOK}\n", (), "NPM001", "config-invalid", 2),
    (f"registry={REG}\nalways-auth=true\n", (), "NPM002", None, 2),
    (f"registry={REG}\n//NPM.example.test/:_authToken={TOK}\n", (), "NPM003",
     "credential-not-matched", 2),
    (f"registry={REG}\n//npm.example.test:443/:_authToken={TOK}\n", (), "NPM004",
     "credential-not-matched", 2),
    (f"registry={REG}team/\n//npm.example.test/other/:_authToken={TOK}\n", (), "NPM005",
     "credential-not-matched", 2),
    (f"registry={REG}\n//npm.example.test/:_authToken=${{HD_UNSET_TOKEN}}\n", (), "NPM006",
     "env-unset", 2),
    (f"registry={REG}\n//npm.example.test/:username=me\n//npm.example.test/:_password=pat.Acct.tok.sec\n",
     (), "NPM007", "token-malformed", 3),
    (f"registry={REG}\n//npm.example.test/:_auth={TOK}\n", (), "NPM008", "token-malformed", 2),
    (f"@acme:registry={REG}\n", (), "NPM009", "no-credentials", 1),
    (f"registry={REG}\n[auth]\n//npm.example.test/:_authToken={TOK}\n", (), "NPM016",
     "config-invalid", 3),
    (f"registry={REG}\n//npm.example.test/:_authToken={TOK}\n//npm.example.test/:_authToken={TOK}\n",
     (), "NPM017", "config-invalid", 2),
    (f"registry={REG}\n//npm.example.test/:_authToken {TOK}\n", (), "NPM019", "config-invalid", 2),
    ("registry=npm.example.test/path/\n", (), "NPM021", "config-invalid", 1),
    (f"registry={REG}pkg/npm\n//npm.example.test/pkg/npm/:_authToken={TOK}\n", (), "NPM023",
     "credential-not-matched", 1),
    (f"registry={REG}\n//other.example.test/:_authToken={TOK}\n", (), "NPM013",
     "credential-not-matched", 2),
]


@pytest.mark.parametrize(("text", "args", "rule", "cause", "line"), CASES)
def test_rule_fires_with_cause_and_line(home: Path, text: str, args: tuple[str, ...], rule: str,
                                        cause: str | None, line: int) -> None:
    home_with(home, text)
    found = rules(check(home, *args))
    assert rule in found, f"{rule} not reported: {sorted(found)}"
    f = found[rule]
    assert f["cause"] == cause
    assert f["location"]["line"] == line
    assert f["location"]["path"].endswith(".npmrc")
    assert TOK not in str(found)


def test_version_dependent_unscoped_rule(home: Path) -> None:
    home_with(home, f"registry={REG}\n_authToken={TOK}\n")
    new = rules(check(home, environ={"HARDOCTOR_NPM_VERSION": "10.8.2"}))["NPM001"]
    old = rules(check(home, environ={"HARDOCTOR_NPM_VERSION": "8.19.4"}))["NPM001"]
    assert new["severity"] == "error" and "ERR_INVALID_AUTH" in new["message"]
    assert old["severity"] == "warning" and "npm 8.19.4" in old["message"]


def test_clean_config_and_chain(home: Path) -> None:
    home_with(home, f"registry={REG}\n//npm.example.test/:_authToken={TOK}\n")
    report = check(home)
    assert [f for f in report["findings"] if f["severity"] != "info"] == []
    (res,) = [r for r in report["resolutions"] if r["client"] == "npm"]
    assert res["credential"] == report["credentials"][0]["id"]
    assert res["chain"][-1]["outcome"] == "used"


def test_layering_project_env_user(home: Path, tmp_path: Path) -> None:
    home_with(home, f"registry={REG}\n//npm.example.test/:_authToken=npm_userUSERuser000000000\n")
    proj = tmp_path / "app" / "src"
    proj.mkdir(parents=True)
    (tmp_path / "app" / "package.json").write_text('{"name": "app"}')
    (tmp_path / "app" / ".npmrc").write_text(
        "//npm.example.test/:_authToken=npm_projPROJproj000000000\n")
    report = check(home, "--project", str(proj))
    found = rules(report)
    assert found["NPM012"]["cause"] == "credential-shadowed"
    assert found["NPM012"]["location"]["path"] == str(tmp_path / "app" / ".npmrc")
    res = next(r for r in report["resolutions"] if r["client"] == "npm")
    used = next(s for s in res["chain"] if s["outcome"] == "used" and s["credential"])
    assert used["location"]["path"] == str(tmp_path / "app" / ".npmrc")
    assert any(s["outcome"] == "lost" for s in res["chain"])
    # An npm_config_ variable beats both files.
    env = {"npm_config_//npm.example.test/:_authToken": "npm_envENVenv0000000000000"}
    report = check(home, "--project", str(proj), environ=env)
    res = next(r for r in report["resolutions"] if r["client"] == "npm")
    used = next(s for s in res["chain"] if s["outcome"] == "used" and s["credential"])
    assert used["location"]["key"].startswith("$npm_config_")


def test_userconfig_env_and_target_scope(home: Path, tmp_path: Path) -> None:
    alt = tmp_path / "alt-npmrc"
    alt.write_text(f"@acme:registry=https://acme.example.test/npm/\n"
                   f"//acme.example.test/npm/:_authToken={TOK}\n")
    report = check(home, "npm:@acme/lib@1.2.3", environ={"NPM_CONFIG_USERCONFIG": str(alt)})
    (res,) = [r for r in report["resolutions"] if r["client"] == "npm"]
    assert res["registry"] == "https://acme.example.test/npm/"
    assert res["credential"] is not None
    assert res["target"].startswith("npm:@acme/lib")


def test_env_auth_variable_ignored(home: Path) -> None:
    home_with(home, f"registry={REG}\n")
    found = rules(check(home, environ={"NPM_CONFIG__AUTHTOKEN": TOK}))
    assert found["NPM018"]["cause"] == "credential-not-matched"


def test_workspace_npmrc_ignored(home: Path, tmp_path: Path) -> None:
    root = tmp_path / "mono"
    member = root / "packages" / "app"
    member.mkdir(parents=True)
    (root / "package.json").write_text('{"name": "mono", "workspaces": ["packages/*"]}')
    (member / "package.json").write_text('{"name": "app"}')
    (member / ".npmrc").write_text(f"//npm.example.test/:_authToken={TOK}\n")
    found = rules(check(home, "--project", str(member)))
    assert found["NPM020"]["cause"] == "credential-not-matched"


def test_token_in_committed_project_npmrc(home: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "package.json").write_text('{"name": "app"}')
    npmrc = repo / ".npmrc"
    npmrc.write_text(f"registry={REG}\n//npm.example.test/:_authToken={TOK}\n")
    found = rules(check(home, "--project", str(repo)))
    f = found["NPM010"]
    assert f["cause"] == "insecure-storage" and f["fix"]["applicability"] == "unsafe"
    # Safe fixes only: the token stays.
    assert run_cli(["fix", "--offline", "--apply", "--project", str(repo)], home=home).rc == 0
    assert TOK in npmrc.read_text()
    res = run_cli(["fix", "--offline", "--apply", "--unsafe", "--project", str(repo)], home=home)
    assert res.rc == 0, res
    assert npmrc.read_text() == f"registry={REG}\n//npm.example.test/:_authToken=${{NPM_TOKEN}}\n"
    assert TOK not in res.out + res.err
    # Git-ignored: nothing to report.
    npmrc.write_text(f"registry={REG}\n//npm.example.test/:_authToken={TOK}\n")
    (repo / ".gitignore").write_text(".npmrc\n")
    assert "NPM010" not in rules(check(home, "--project", str(repo)))


FIXABLE = [
    (f"; keep me\nregistry={REG}\n_authToken={TOK}\n",
     f"; keep me\nregistry={REG}\n//npm.example.test/:_authToken={TOK}\n"),
    (f"registry={REG}\nalways-auth=true\n//npm.example.test/:_authToken={TOK}\n",
     f"registry={REG}\n//npm.example.test/:_authToken={TOK}\n"),
    (f"registry={REG}\r\n//NPM.Example.test/:_authToken={TOK}\r\n",
     f"registry={REG}\r\n//npm.example.test/:_authToken={TOK}\r\n"),
    (f"registry={REG}\n//npm.example.test:443/:_authToken={TOK}",
     f"registry={REG}\n//npm.example.test/:_authToken={TOK}"),
    (f"registry={REG}team/\n# why\n//npm.example.test/other/:_authToken={TOK}\n",
     f"registry={REG}team/\n# why\n//npm.example.test/team/:_authToken={TOK}\n"),
    (f"registry={REG}\n//npm.example.test:_authToken={TOK}\n",
     f"registry={REG}\n//npm.example.test/:_authToken={TOK}\n"),
]


@pytest.mark.parametrize(("before", "after"), FIXABLE)
def test_safe_fix_repairs_and_is_idempotent(home: Path, before: str, after: str) -> None:
    path = home_with(home, before)
    env = {"npm_config_globalconfig": str(home / "none")}
    dry = run_cli(["fix", "--offline"], home=home, environ=env)
    assert dry.rc == 1 and "+++" in dry.out and TOK not in dry.out
    assert path.read_bytes().decode() == before
    res = run_cli(["fix", "--offline", "--apply"], home=home, environ=env)
    assert res.rc == 0, res
    assert path.read_bytes().decode() == after
    again = run_cli(["fix", "--offline", "--apply"], home=home, environ=env)
    assert "Nothing to fix" in again.out
    assert run_cli(["fix", "--undo"], home=home, environ=env).rc == 0
    assert path.read_bytes().decode() == before


def test_text_report_names_line_and_command(home: Path) -> None:
    home_with(home, f"registry={REG}\n//npm.example.test/:_authToken=${{HD_UNSET_TOKEN}}\n")
    res = run_cli(["check", "--offline", "--no-color"], home=home,
                  environ={"npm_config_globalconfig": str(home / "none")})
    assert res.rc == 1
    assert "NPM006" in res.out and "~/.npmrc:2" in res.out
    assert "export HD_UNSET_TOKEN" in res.out


# -- Yarn Berry and pnpm ---------------------------------------------------------------------


def test_yarn_rules(home: Path, tmp_path: Path) -> None:
    proj = tmp_path / "y"
    proj.mkdir()
    (proj / "package.json").write_text('{"name": "y", "packageManager": "yarn@4.5.0"}')
    (proj / ".yarnrc.yml").write_text(
        "npmRegistryServer: \"https://npm.example.test\"\n"
        "npmAuthToken: \"${HD_YARN_UNSET}\"\n"
        "npmToken: abc\n"
        "npmRegistries:\n"
        "  \"//npm.example.test/\":\n"
        "    npmAuthIdent: justatokenwithoutcolon\n"
    )
    found = rules(check(home, "--project", str(proj)))
    assert found["NPM031"]["cause"] == "env-unset" and found["NPM031"]["location"]["line"] == 2
    assert found["NPM034"]["location"]["line"] == 3
    assert found["NPM033"]["location"]["line"] == 5
    assert found["NPM035"]["cause"] == "token-malformed"
    (proj / ".yarnrc.yml").write_text("npmAuthToken ${X}\n  bad: [\n")
    assert rules(check(home, "--project", str(proj)))["NPM030"]["cause"] == "config-invalid"


def test_yarn_ignores_npmrc_and_always_auth(home: Path, tmp_path: Path) -> None:
    proj = tmp_path / "y"
    proj.mkdir()
    (proj / "package.json").write_text(
        '{"name": "y", "packageManager": "yarn@4.5.0", "dependencies": {"left-pad": "1"}}')
    home_with(home, f"registry={REG}\n//npm.example.test/:_authToken={TOK}\n")
    found = rules(check(home, "--project", str(proj)))
    assert found["NPM036"]["cause"] == "credential-not-matched"
    # npm and Yarn talk to different registries here: no "disagreement" about one.
    assert "NPM015" not in found
    (proj / ".yarnrc.yml").write_text(
        "npmRegistryServer: \"https://npm.example.test\"\nnpmAuthToken: \"" + TOK + "\"\n")
    found = rules(check(home, "--project", str(proj)))
    assert found["NPM032"]["location"]["line"] == 2
    (proj / ".yarnrc.yml").write_text(
        "npmRegistryServer: \"https://npm.example.test\"\nnpmAlwaysAuth: true\n"
        "npmAuthToken: \"" + TOK + "\"\n")
    report = check(home, "--project", str(proj))
    yarn = next(r for r in report["resolutions"] if r["client"] == "yarn")
    assert yarn["credential"] is not None
    assert not {"NPM032", "NPM036", "NPM015"} & set(rules(report))


def test_pnpm_reads_unscoped_token_and_default_syntax(home: Path, tmp_path: Path) -> None:
    proj = tmp_path / "p"
    proj.mkdir()
    (proj / "package.json").write_text('{"name": "p", "packageManager": "pnpm@9.1.0"}')
    home_with(home, f"registry={REG}\n_authToken={TOK}\n")
    report = check(home, "--project", str(proj))
    pnpm = next(r for r in report["resolutions"] if r["client"] == "pnpm")
    npm_ = next(r for r in report["resolutions"] if r["client"] == "npm")
    assert pnpm["credential"] is not None and npm_["credential"] is None
    # The project says pnpm: npm is shown, not judged, and its refusal of the
    # unscoped key is a warning; naming both clients brings the comparison back.
    assert pnpm["judged"] and not npm_["judged"]
    assert "NPM015" not in rules(report) and rules(report)["NPM001"]["severity"] == "warning"
    both = check(home, "--project", str(proj), "--client", "npm", "--client", "pnpm")
    assert "NPM015" in rules(both)
    home_with(home, f"registry={REG}\n//npm.example.test/:_authToken=${{HD_UNSET:-{TOK}}}\n")
    f = rules(check(home, "--project", str(proj)))["NPM006"]
    assert "pnpm expands it" in f["message"]
