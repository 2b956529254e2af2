"""The house's walls, checked on the source itself (issue 12).

- no plugin package imports another plugin package, at any level;
- the core names no vendor, ecosystem or client in code (identifiers and
  string constants; docstrings and comments may explain);
- no module is over 600 lines;
- no string-keyed per-run cache (``ctx.cache``) remains.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "src" / "hardoctor"
PLUGINS = ROOT / "plugins"

#: Words that belong to a vendor, an ecosystem or a client.  Matched as whole
#: words (or word parts split on ``_``, ``-``, ``.``, ``/`` and case changes).
VENDOR_WORDS = frozenset({
    "harness", "har", "docker", "dockerd", "podman", "skopeo", "buildah", "helm",
    "npm", "npmrc", "yarn", "yarnrc", "pnpm", "verdaccio", "pip", "pypi", "pypirc",
    "uv", "poetry", "pdm", "twine", "maven", "mvn", "gradle", "k8s", "kube", "kubectl",
    "kubelet", "kubernetes", "ecr", "gcr", "acr", "ghcr", "jfrog", "artifactory",
    "gitlab", "github", "nexus", "netrc",
})
#: Output formats are named after the tools that read them; they are not
#: vendors of registries (``github`` workflow commands, ``sarif``).
ALLOWED = {("report/github.py", "github"), ("builtin.py", "github"),
           ("report/sarif.py", "github"), ("cli.py", "github")}


def _py(root: Path) -> Iterator[Path]:
    yield from sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _plugin_packages() -> list[str]:
    return sorted(p.name for p in PLUGINS.iterdir() if (p / "__init__.py").exists())


def _imports(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module", "__import__"
        ):
            for arg in node.args[:1]:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    yield arg.value


def test_no_plugin_imports_another() -> None:
    packages = _plugin_packages()
    bad = []
    for pkg in packages:
        for path in _py(PLUGINS / pkg):
            for name in _imports(ast.parse(path.read_text())):
                top = name.split(".")[0]
                if top in packages and top != pkg:
                    bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, "\n".join(bad)


def _docstring_nodes(tree: ast.AST) -> set[int]:
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
        # A bare string statement anywhere is a comment-like docstring (#: attribute docs).
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            out.add(id(node.value))
    return out


def _words(text: str) -> set[str]:
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return {w.lower() for w in re.split(r"[^A-Za-z0-9]+", text) if w}


def _core_names(path: Path) -> Iterator[tuple[int, str, str]]:
    tree = ast.parse(path.read_text())
    docs = _docstring_nodes(tree)
    for node in ast.walk(tree):
        texts: list[str] = []
        if isinstance(node, ast.Name):
            texts.append(node.id)
        elif isinstance(node, ast.Attribute):
            texts.append(node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            texts.append(node.name)
        elif isinstance(node, ast.arg) or isinstance(node, ast.keyword) and node.arg:
            texts.append(node.arg)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            texts.append(node.value)
        for text in texts:
            for word in _words(text) & VENDOR_WORDS:
                yield getattr(node, "lineno", 0), word, text


def test_core_names_no_vendor_ecosystem_or_client() -> None:
    bad = []
    for path in _py(CORE):
        rel = path.relative_to(CORE).as_posix()
        for line, word, text in _core_names(path):
            if (rel, word) in ALLOWED:
                continue
            bad.append(f"src/hardoctor/{rel}:{line}: {word!r} in {text[:60]!r}")
    assert not bad, f"{len(bad)} vendor/ecosystem/client names in the core:\n" + "\n".join(bad)


@pytest.mark.parametrize("root", [CORE, PLUGINS], ids=["core", "plugins"])
def test_no_module_over_600_lines(root: Path) -> None:
    big = [f"{p.relative_to(ROOT)}: {n}" for p in _py(root)
           if (n := len(p.read_text().splitlines())) > 600]
    assert not big, "\n".join(big)


def test_no_string_keyed_run_cache() -> None:
    bad = [f"{p.relative_to(ROOT)}:{i}" for root in (CORE, PLUGINS) for p in _py(root)
           for i, line in enumerate(p.read_text().splitlines(), 1)
           if re.search(r"\bctx\.cache\b|\bself\.cache\s*[:=]", line)]
    assert not bad, "\n".join(bad)


def test_no_file_cites_a_document_the_repository_lacks() -> None:
    """Every ``docs/….md`` (or ``*.md`` at the top) that code or docs name
    exists in the repository; nothing points at a design file outside it."""
    cited = re.compile(r"(?<![\w/.-])((?:docs/[\w./-]+|[A-Z][\w-]*)\.md)\b")
    bad = []
    # Test modules are left out: their strings are data (paths a hook must skip).
    for root in (ROOT / "src", ROOT / "plugins", ROOT / "tests" / "servers", ROOT / "docs",
                 ROOT / "benchmarks"):
        for path in sorted(root.rglob("*")):
            if path.suffix not in (".py", ".md") or "__pycache__" in path.parts:
                continue
            for i, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                for name in cited.findall(line):
                    where = [ROOT / name, path.parent / name, ROOT / "docs" / name]
                    if not any(p.exists() for p in where):
                        bad.append(f"{path.relative_to(ROOT)}:{i}: {name}")
    readme = (ROOT / "README.md").read_text()
    bad += [f"README.md: {n}" for n in cited.findall(readme) if not (ROOT / n).exists()]
    assert not bad, "\n".join(bad)
