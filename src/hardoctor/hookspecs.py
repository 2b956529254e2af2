"""Every hook hardoctor calls, in one module.

A plugin is an ordinary module (or object) with functions named like these and
marked with ``@hardoctor.hookimpl``.  Hooks are called with keyword arguments;
an implementation declares only the arguments it needs, so hooks can grow new
arguments without breaking plugins.

The pipeline calls them in this order for ``check`` and ``fix``::

    addoption -> configure -> register_rules
    -> discover -> credentials -> decode_secret -> lint -> check_credential
    -> parse_target / targets -> resolve -> probe -> diagnose -> fix
    -> reporter

Hooks are called through pluggy, so ``wrapper=True`` implementations of
third-party plugins work as pluggy documents.  The plugin manager wraps every
ordinary implementation when it registers it: one plugin raising inside a
hook becomes an error finding (HD002) naming the plugin and the hook, and the
others still run.  Results come in pluggy's order: ``tryfirst`` first, then
the most recently registered plugin first (third-party plugins before the
built-ins), ``trylast`` last.

Vendor knowledge reaches other plugins only through hooks, never imports:
``hardoctor_registry_info`` (what a URL means to its vendor),
``hardoctor_decode_secret`` (what a token is) and ``hardoctor_remediation``
(the vendor's own steps for a finding).  Per-run state lives in
``ctx.stash`` under a plugin's own :class:`hardoctor.stash.StashKey`.

Objects passed in and returned are the frozen dataclasses of
:mod:`hardoctor.model`; ``ctx`` is the run's :class:`hardoctor.context.Context`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Mapping, Sequence

    from hardoctor.context import Context
    from hardoctor.model import (
        Credential,
        Ecosystem,
        Finding,
        Fix,
        ProbeResult,
        RegistryInfo,
        Remediation,
        Resolution,
        Rotation,
        Rule,
        Secret,
        SetupPlan,
        SetupRequest,
        Source,
        Target,
        TokenInfo,
    )
    from hardoctor.probe import ProbePlan
    from hardoctor.report import Reporter

hookspec = pluggy.HookspecMarker("hardoctor")


@hookspec
def hardoctor_addoption(parser: argparse.ArgumentParser, command: str) -> None:
    """Add this plugin's options to subcommand ``command`` (``check``,
    ``fix``, ``token``, ...).

    ``parser`` is an argparse (sub)parser; add with ``parser.add_argument``
    (an argument group named after the plugin reads best in ``--help``).
    Values reach the plugin as ``ctx.options.extra`` (read them with the
    typed accessors ``ctx.options.flag/string/strings/number``); turn them
    into the plugin's own frozen options object in ``hardoctor_configure``
    and keep it in ``ctx.stash``.  Read environment twins there too, and
    raise :class:`hardoctor.errors.UsageError` for a bad value.  Called once
    per subcommand.  Returns nothing.
    """


@hookspec
def hardoctor_configure(ctx: Context) -> None:
    """Called once per run after options are parsed, before anything else.

    A plugin may read ``ctx.options`` and prepare state in ``ctx.stash``.
    Returns nothing.
    """


@hookspec
def hardoctor_register_rules(register: Callable[[Rule], None]) -> None:
    """Register the plugin's rules by calling ``register(Rule(...))``.

    Codes must match ``^[A-Z]{2,3}[0-9]{3}$`` and be unique across all
    plugins; a bad or duplicate code is refused at load time (the plugin's
    other rules still load, and a warning names the offender).
    """


@hookspec
def hardoctor_discover(ctx: Context) -> Sequence[Source] | None:
    """Return the configuration sources this plugin's clients would read.

    Files that do not exist are normal: return them with ``exists=False``
    only when their absence is worth showing; a file that exists but cannot
    be read is a Source with ``error`` set.  Environment variables and
    credential helpers are sources too.  Must not touch the network.
    """


@hookspec
def hardoctor_credentials(source: Source, ctx: Context) -> Sequence[Credential] | None:
    """Return the credentials ``source`` holds (only for sources this plugin
    understands; return ``None`` for others).

    Each credential carries the registry key exactly as the client keys it,
    its normalised host, its location (file and line) and a
    :class:`~hardoctor.model.Secret`.  Credential helpers may be run here
    (with a timeout); a failing helper is reported by ``hardoctor_lint``.
    """


@hookspec
def hardoctor_prefetch(credentials: Sequence[Credential], ctx: Context) -> None:
    """Called once with every credential of the run.

    The place to start slow lookups for all of them at once (the Harness
    token API, say) so that ``hardoctor_decode_secret``, called per
    credential, finds the answers cached.  Network lookups here must honour
    ``ctx.options.offline`` and the run's deadline.  Returns nothing.

    Online, the engine calls it on a worker thread and goes on at once: the
    credentials are decoded a first time (the answers may not be there yet),
    resolved and probed concurrently with the lookups, then decoded again
    once prefetch has returned (``docs/ARCHITECTURE.md``).  Store answers in
    thread-safe ways (a dict assignment is); never block waiting for the
    main thread.
    """


@hookspec(firstresult=True)
def hardoctor_decode_secret(credential: Credential, ctx: Context) -> TokenInfo | None:
    """Decode ``credential.secret``: kind, account, token id, expiry.

    firstresult: the first plugin that recognises the value answers.  The
    core's generic decoder (JWT claims, ``opaque``) runs last.  Must never put
    the secret value in the returned object.
    """


@hookspec
def hardoctor_lint(source: Source, ctx: Context) -> Sequence[Finding] | None:
    """Return offline findings about one source: syntax, keys the client
    ignores or misreads, permissions, plaintext storage.  Findings should
    carry a :class:`~hardoctor.model.Fix` when a safe or unsafe edit exists.
    """


@hookspec
def hardoctor_check_credential(
    credential: Credential, ctx: Context
) -> Sequence[Finding] | None:
    """Return offline findings about one decoded credential, from any
    ecosystem: malformed token, expiry, account mismatch, ...  This is where
    token and vendor plugins look at everyone's credentials.
    """


@hookspec(firstresult=True)
def hardoctor_parse_target(value: str, ctx: Context) -> Target | None:
    """Parse a command-line TARGET (``HOST/PATH:TAG``, ``npm:PKG``,
    ``pip:NAME``, a URL, ...).  firstresult; return ``None`` when the value is
    not yours.  The core falls back to treating it as a registry host/URL.
    """


@hookspec
def hardoctor_targets(
    ctx: Context, credentials: Sequence[Credential]
) -> Sequence[Target] | None:
    """With no TARGET on the command line: the registries this plugin's
    clients are configured to talk to (including ones with no credential at
    all -- that is the ``no-credentials`` case).
    """


@hookspec
def hardoctor_resolve(
    target: Target, credentials: Sequence[Credential], ctx: Context
) -> Sequence[Resolution] | None:
    """For ``target``, say which credential each of this plugin's clients will
    send, following the client's own precedence, with the full chain of
    candidates and why each won or lost.  Return ``None`` when the target is
    not for your clients.

    (A firstresult hook would pick one answer; it is collected instead because
    one image is pulled by several clients -- Docker, podman, Helm,
    kubelet -- that disagree, and showing the disagreement is the point.)
    """


@hookspec
def hardoctor_probe(resolution: Resolution, ctx: Context) -> Sequence[ProbePlan] | None:
    """Return the network probes that test ``resolution`` the way the client
    would.  The core runs every plan from every plugin concurrently under one
    deadline; never do network I/O in this hook itself.
    """


@hookspec
def hardoctor_diagnose(
    resolution: Resolution, results: Sequence[ProbeResult], ctx: Context
) -> Sequence[Finding] | None:
    """Turn a resolution and its probe results (empty when offline) into
    findings with one cause each.  Offline, this is where ``no-credentials``
    and ``credential-shadowed`` are found from the chain alone.
    """


@hookspec(firstresult=True)
def hardoctor_fix(finding: Finding, ctx: Context) -> Fix | None:
    """Plan a fix for a finding that did not come with one.  firstresult."""


@hookspec(firstresult=True)
def hardoctor_rotate(credential: Credential, new_secret: Secret, ctx: Context) -> Rotation | None:
    """Plan putting ``new_secret`` where ``credential`` is stored
    (``hardoctor fix --token-stdin``).  firstresult: the plugin that owns the
    credential answers.

    Return a :class:`~hardoctor.model.Rotation`: file edits as a ``Fix``
    (re-encoded, re-encrypted as the old value was), other changes as
    ``ExternalAction``s (a credential helper's ``store``, ``kubectl apply``),
    and ``manual`` steps where the value comes from an environment variable
    (never write the literal token over a ``${VAR}`` reference).  Never put
    the secret in any text of the Rotation.
    """


@hookspec
def hardoctor_setup_plan(request: SetupRequest, ctx: Context) -> SetupPlan | None:
    """``hardoctor setup URL --token-stdin``: plan configuring this plugin's
    client for ``request.url`` with ``request.secret`` (already checked).
    Answer only when ``request.client`` names your client, or, with no
    ``--client``, when ``request.package_type`` is one your client reads;
    else ``None``.  Write the client's config the way the client reads it
    best with the safest storage that works (its credential helper, a 0600
    file), as a ``Fix`` of ``Edit``s (``expected=ABSENT`` for a new file) so
    the diff, backup and ``fix --undo`` are the core's.  Plan nothing that
    is already so: a second run must change nothing.  With
    ``request.scope == "project"`` write ``${request.env_var}`` references,
    never the literal token.  Never put the secret in any text.
    """


@hookspec
def hardoctor_setup_notes(url: str, package_type: str | None, ctx: Context) -> Sequence[str] | None:
    """``hardoctor setup``: the vendor's own words for a person who just set
    up a client for ``url`` -- where tokens are made and renewed, and why a
    pipeline run by a service principal may still get 403.  Only the vendor
    that owns ``url`` answers; ``None`` for other registries.
    """


@hookspec(firstresult=True)
def hardoctor_registry_info(
    url: str, package_type: str | None, ctx: Context
) -> RegistryInfo | None:
    """What ``url`` (a URL, ``host[:port]`` or ``host/path``) means to the
    vendor that owns it: vendor, account, registry, package type, and what
    is wrong with the URL as written (``problems``, ``suggested_url``).
    ``package_type`` is what the caller's client needs from it (``oci``,
    ``npm``, ``python``, ``maven``, ...), or ``None``: a vendor that serves
    each type under its own layout judges the URL for that type.
    firstresult: only the plugin of the vendor that owns the host answers;
    everyone else returns ``None``.

    Client plugins call it through ``ctx.registry_info(url)`` (cached per
    run) instead of importing a vendor plugin.  Pure: no I/O.
    """


@hookspec(firstresult=True)
def hardoctor_remediation(
    finding: Finding, credential: Credential | None, ctx: Context
) -> Remediation | None:
    """The vendor's own remediation for ``finding`` when the vendor owns
    ``finding.registry``: its login command, its token page, its wording.
    The core asks after ``diagnose`` for every finding with a registry and
    a cause; a returned value replaces the client plugin's generic one.
    ``credential`` is the credential the finding is about, when known.
    firstresult.  Return ``None`` for registries of other vendors: vendor
    advice on another vendor's registry is wrong advice.
    """


@hookspec
def hardoctor_transport_advice(
    outcome: str, kind: str, host: str, ecosystems: Sequence[str], ctx: Context
) -> Remediation | None:
    """This plugin's clients' own steps for a transport failure (NET rules)
    talking to ``host``: how its client trusts a CA, marks a registry
    insecure, or takes proxy settings.  ``outcome`` is the probe outcome
    (``tls-error``, ``proxy-error``, ...), ``kind`` the precise class
    (``untrusted-issuer``, ...).  ``ecosystems`` are the ecosystems whose
    clients failed; return ``None`` when none of them is yours.  The core
    appends the steps and commands to its generic remediation.
    """


@hookspec
def hardoctor_ecosystems() -> Sequence[Ecosystem] | None:
    """The ecosystems this plugin serves: the names ``--ecosystem``
    accepts (an unknown name is a usage error) and the target spellings
    ``--help`` shows."""


@hookspec
def hardoctor_client_names() -> Mapping[str, str] | None:
    """Display names of this plugin's clients (``{"npm": "npm", ...}``),
    for reports.  A client without a name is shown by its id."""


@hookspec(firstresult=True)
def hardoctor_reporter(name: str, ctx: Context) -> Reporter | None:
    """Return the reporter for output format ``name`` (``text``, ``json``, ...)
    or ``None``.  firstresult.
    """


@hookspec
def hardoctor_report_formats() -> Sequence[str] | None:
    """Names of the output formats this plugin provides (for ``--format``)."""
