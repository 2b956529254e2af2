"""No parser error message ever carries input text (hypothesis).

Each parser is fed documents that break it around a canary -- as a bare
word, an alias, an anchor, a key, an entity, a tag, a host -- and every
error it reports is checked for the canary.  Then the same hostile files go
through the whole CLI in every output format (text, json, sarif, github,
``--debug``) and no canary may appear anywhere.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from tests.helpers import run_cli

from hardoctor import jsonspan
from hardoctor.parsing import toml_problem, url_problem, xml_problem, yaml_problem
from hardoctor.probe.proxy import describe_proxy, proxy_problem

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from hardoctor_docker import config as docker_config  # noqa: E402
from hardoctor_k8s import yamlstream  # noqa: E402
from hardoctor_maven import xmlpos  # noqa: E402
from hardoctor_npm import yarnrc  # noqa: E402
from hardoctor_pip import ini as pip_ini  # noqa: E402
from hardoctor_pip import netrcfile, requirements, tomlconf  # noqa: E402

# A canary: letters, digits and the punctuation tokens carry (dots, dashes),
# never shorter than 12 characters, so it cannot occur in our own words.
canaries = st.from_regex(r"\AC[a-z0-9]{6}[.\-_]?[A-Za-z0-9]{5,20}\Z", fullmatch=True)
FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# Templates that break each format around the canary {c}.
NETRC = ["machine h.example login dev {c}\n", "{c}\n", "machine h login u password p {c} x\n",
         "default {c}\n", "macdef {c}\nno end"]
YAML = ["password: *{c}\n", "a: &{c} 1\nb: &{c} 2\nc: *{c}\n", "k: !{c} v\n", 'k: "\\{c}"\n',
        "k: [{c}\n", "{c}: : :\n", "- {c}\n k: v\n", "k: v\n{c}\n  - x\n", "k: '{c}\n",
        "? {c}\n? {c}\n:", "%{c} x\n---\na: 1\n", "k: !!{c} x\n", "a:\n\t{c}: 1\n"]
TOML = ["{c} = 1\n{c} = 2\n", "[{c}]\n[{c}]\n", "a = {c}\n", "a = \"{c}\n", "a = [{c}\n",
        "{c}\n", "a.{c} = 1\na.{c}.b = 2\n", "t = {{ {c} = 1, {c} = 2 }}\n",
        'a = "\\{c}"\n']
INI = ["[global]\n{c} = 1\n{c} = 2\n", "[{c}]\n[{c}]\n", "{c}\n", "[global]\n{c}\n",
       "[global]\nindex-url = x\n{c}\n"]
JSON = ['{{"auths": {c}}}', '{{"{c}": 1,}}', '{{"a": "{c}', "[{c}]", '{{"a": 1}} {c}',
        '{{"a" {c}}}', '{{"a": "\\{c}"}}']
XML = ["<settings>&{c};</settings>", "<settings><{c}></x></settings>", "<{c}>",
       "<settings>{c}</settings><{c}/>", '<!DOCTYPE s [<!ENTITY {c} "x">]><s>&{c};</s>',
       "<settings><a {c}></a></settings>", "<settings></{c}>"]
REQ = ["--index-url 'https://u:{c}@h/simple\n", '-i "{c}\n', "--extra-index-url\n{c} \\\n"]
URLS = ["http://[{c}", "http://u:{c}@[::1", "http://h:{c}/", "{c}://[x", "http://u:{c}@h:99999/"]


def _messages_netrc(text: str) -> list[str]:
    doc = netrcfile.parse(text)
    return [doc.error.message] if doc.error else []


def _messages_k8s(text: str) -> list[str]:
    return [o.message for o in yamlstream.iter_objects(text)
            if isinstance(o, yamlstream.StreamError)]


def _messages_yarn(text: str) -> list[str]:
    _, problem = yarnrc.compose(text)
    return [problem[0]] if problem else []


def _messages_toml(text: str) -> list[str]:
    doc = tomlconf.load(text)
    return [doc.error.message] if doc.error else []


def _messages_ini(text: str) -> list[str]:
    doc = pip_ini.parse(text)
    return [doc.error.message] if doc.error else []


def _messages_json(text: str) -> list[str]:
    out = []
    try:
        jsonspan.parse(text)
    except jsonspan.JSONSpanError as exc:
        out.append(str(exc))
    doc = docker_config.parse_config(text)
    if doc.error is not None:
        out.append(str(doc.error.msg))
    out += [m for m, _ in doc.type_errors if not m.startswith('auths["')]
    return out


def _messages_xml(text: str) -> list[str]:
    try:
        xmlpos.parse(text)
    except xmlpos.XmlError as exc:
        return [str(exc)]
    return []


def _messages_req(text: str) -> list[str]:
    return [m for _, m in requirements.parse(text, {}).errors]


def _messages_url(text: str) -> list[str]:
    out = [describe_proxy("HTTPS_PROXY", text)]
    bad = proxy_problem(text)
    if bad:
        out.append(bad)
    from hardoctor.tokens.peel import PeelError, peel_url_userinfo
    try:
        peel_url_userinfo(text)
    except PeelError as exc:
        out.append(str(exc))
    return out


CASES: list[tuple[str, list[str], Callable[[str], list[str]]]] = [
    ("netrc", NETRC, _messages_netrc), ("k8s-yaml", YAML, _messages_k8s),
    ("yarnrc", YAML, _messages_yarn), ("toml", TOML, _messages_toml), ("pip-ini", INI, _messages_ini),
    ("json", JSON, _messages_json), ("maven-xml", XML, _messages_xml),
    ("requirements", REQ, _messages_req), ("urls", URLS, _messages_url),
]


@pytest.mark.parametrize(("name", "templates", "messages"), CASES, ids=[c[0] for c in CASES])
@FAST
@given(data=st.data(), token=canaries)
def test_no_parser_error_quotes_its_input(name: str, templates: list[str],
                                          messages: Callable[[str], list[str]],
                                          data: st.DataObject, token: str) -> None:
    template = data.draw(st.sampled_from(templates))
    text = template.format(c=token)
    for message in messages(text):
        assert token not in message, (name, text, message)
        # Not even most of it (a message that shows a prefix or a suffix).
        assert token[:10] not in message and token[-10:] not in message, (name, text, message)


@FAST
@given(token=canaries, junk=st.text(min_size=0, max_size=20))
def test_core_categories_never_echo(token: str, junk: str) -> None:
    import tomllib
    import yaml

    for text in (f"a: *{token}\n", f"a: &{token} 1\nb: &{token} 2\n", f"k: !{token} v\n{junk}"):
        try:
            yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            assert token not in str(yaml_problem(exc))
    try:
        tomllib.loads(f"{token} = 1\n{token} = 2\n{junk}")
    except tomllib.TOMLDecodeError as exc:
        assert token not in str(toml_problem(exc))
    from urllib.parse import urlsplit
    try:
        urlsplit(f"http://[{token}")
    except ValueError as exc:
        assert token not in url_problem(exc)
    from xml.etree.ElementTree import ParseError, fromstring
    try:
        fromstring(f"<s>&{token};</s>")
    except ParseError as exc:
        assert token not in str(xml_problem(exc))


# -- the whole CLI, every output format --------------------------------------------------------

FILES = {
    ".netrc": "machine pypi.example.test login dev {c}\n",
    ".yarnrc.yml": "npmAuthToken: *{c}\n",
    ".config/pip/pip.conf": "[global]\n{c} = 1\n{c} = 2\n",
    ".config/uv/uv.toml": "{c} = 1\n{c} = 2\n",
    ".docker/config.json": '{{"auths": {{"r.example.com": {{"auth": "x"}}}}, {c}}}',
    ".m2/settings.xml": "<settings><servers>&{c};</servers></settings>",
    ".npmrc": "//registry.example.com/:_authToken=${c}\n[{c}\n",
    "m.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  p: *{c}\n",
}


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "debug"])
@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck),
          phases=[Phase.generate])
@given(token=canaries)
def test_no_canary_reaches_any_output(tmp_path_factory: pytest.TempPathFactory, fmt: str,
                                      token: str) -> None:
    home = tmp_path_factory.mktemp("home")
    for rel, template in FILES.items():
        path = home / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(c=token))
        path.chmod(0o600)
    args = ["check", "--offline", "--manifests", str(home / "m.yaml")]
    args += ["--debug"] if fmt == "debug" else ["--format", fmt]
    result = run_cli(args, home=home)
    text = result.out + result.err
    assert token not in text, text[:3000]
    assert "Traceback" not in text
    if fmt == "json":
        findings = json.loads(result.out)["findings"]
        assert len(findings) >= 5  # the broken files were read and reported
