"""What every lint check of the plugin shares (part of the *lint* role): the
:class:`Linter` of one file, and the checks several files need -- secrets
committed to git, ``${env.X}`` in URLs, URLs a vendor says are wrong for
Maven."""

from __future__ import annotations

import re
from collections.abc import Sequence

from hardoctor.context import Context
from hardoctor.model import Finding, Fix, Location, Remediation, Severity
from hardoctor.records import dataclass, field

from .state import ECO, FileEntry, World


@dataclass
class Linter:
    """The findings about one file, as they are found."""

    w: World
    entry: FileEntry
    ctx: Context
    out: list[Finding] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.ctx.display_path(self.entry.path)

    def add(self, code: str, message: str, *, location: Location | None = None,
            credential: str | None = None, registry: str | None = None,
            severity: Severity | None = None, why: str = "", evidence: Sequence[str] = (),
            remediation: Remediation | None = None, fix: Fix | None = None) -> None:
        self.out.append(self.ctx.finding(
            code, message, ecosystem=ECO, location=location, credential=credential,
            registry=registry, severity=severity, why=why, evidence=evidence,
            remediation=remediation, fix=fix))


def committed(lt: Linter, loc: Location, what: str, cred: str | None = None) -> None:
    """MVN010: a plaintext secret in a file git tracks."""
    lt.add(
        "MVN010",
        f"{lt.name} is tracked by git and holds {what} in plain text.",
        location=loc, credential=cred,
        why="Everyone who can read the repository, including its history, has the token.",
        remediation=Remediation(
            "Move the secret out of the repository and revoke it.",
            steps=("Put it in ~/.m2/settings.xml or ~/.gradle/gradle.properties, or in an "
                   "environment variable (${env.X} in Maven, ORG_GRADLE_PROJECT_x in Gradle).",
                   "Create a new token: the old one stays in the git history."),
        ),
    )


def env_unset(lt: Linter, var: str, what: str, loc: Location, why: str) -> None:
    """MVN012 for a ``${env.X}`` in a URL."""
    lt.add("MVN012", f"The URL of {what} uses ${{env.{var}}}, which is not set.",
           location=loc, registry=None, why=why,
           remediation=Remediation("Set the variable.", commands=(f'export {var}="..."',)))


def url_checks(lt: Linter, url: str, loc: Location, what: str) -> None:
    """A mirror's URL: unset variables, and what the registry's vendor says."""
    for var in re.findall(r"\$\{env\.([^}]+)\}", url):
        if lt.ctx.getenv(var) is None:
            env_unset(lt, var, what, loc,
                      "Maven keeps the expression in the URL and cannot connect.")
    vendor_url(lt, url, loc, what)


def vendor_url(lt: Linter, url: str, loc: Location, what: str) -> None:
    """MVN017: the vendor that owns the registry says the URL is another
    package type's (``RegistryInfo.package_type`` is what the URL names,
    ``problems`` why it is wrong for Maven).  Other layout problems are the
    vendor plugin's own findings, over the credentials and resolutions."""
    info = lt.ctx.registry_info(url, ECO)
    ptype = (info.package_type or "").lower() if info is not None else ""
    if info is None or not info.problems or ptype in ("", ECO):
        return
    needs = info.suggested_url or "the registry's Maven URL"
    lt.add(
        "MVN017",
        f"The URL of {what} is a {info.display or info.vendor} {ptype} registry URL; "
        f"Maven needs {needs}.",
        location=loc, registry=url, evidence=info.problems,
        why="The registry routes by the package type in the URL: Maven requests to another "
            "type's route get 404 or 401.",
        remediation=Remediation("Use the registry's Maven URL (its client setup page shows it).",
                                steps=(f"Use {info.suggested_url}",) if info.suggested_url
                                else ()),
    )
