"""The rules of the OCI distribution protocol (DKR101-DKR113).

The codes kept their ``DKR1xx`` numbers when the protocol moved out of the
Docker plugin: users key on them, and every OCI client (Docker CLI,
podman/skopeo, Helm, the kubelet) gets the same verdicts.
"""

from __future__ import annotations

from hardoctor.model import Rule, Severity
from hardoctor.rules import rule

_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

OCI_RULES: tuple[Rule, ...] = (
    rule(
        'DKR101',
        'registry-rejected-credential',
        _E,
        'token-invalid',
        'The registry (or its token endpoint) refuses the credential the client sends.',
        what=(
            'Walks the pull protocol with the credential the client would use and\n'
            '  reports a 401 from the token endpoint (or, for Basic-auth registries, from\n'
            '  the registry) for that credential, when the credential is not known to be\n'
            '  expired.'
        ),
        why=(
            'Every pull fails with `unauthorized: authentication required` or\n'
            '  `invalid username or password`.  The registry does not say why: the token\n'
            '  was revoked or deleted, mistyped, pasted with a stray character, or belongs\n'
            '  to another account.'
        ),
        example=(
            '~/.docker/config.json:4 holds a token that was deleted in the registry UI;\n'
            '  https://pkg.harness.io/v2/token answers 401 for it.'
        ),
        fix=(
            'Create a new token and log in again:\n'
            '    printf \'%s\' "$TOKEN" | docker login HOST -u USER --password-stdin\n'
            '  Update every other copy of the old token (npm, pip, Kubernetes secrets).'
        ),
        safety='No automatic fix: a new secret has to come from you.',
    ),
    rule(
        'DKR102',
        'registry-credential-expired',
        _E,
        'token-expired',
        'The registry refuses the credential, and the credential is expired.',
        what=(
            'Like DKR101, when the refused credential is known to be past its expiry\n'
            "  (from the token itself, the vendor's API, or an estimate -- the finding\n"
            '  says which).'
        ),
        why=(
            'Tokens made for a client setup often live 30 days; pulls work for a month\n'
            '  and then fail with 401 with nothing changed locally.'
        ),
        example='A Harness Setup Client token stored on 2026-01-02 and never renewed.',
        fix=(
            'Create a new token (a longer-lived one for machines) and log in again:\n'
            '    printf \'%s\' "$TOKEN" | docker login HOST -u USER --password-stdin'
        ),
        safety='Every copy of a token expires on its own; update them all.',
    ),
    rule(
        'DKR103',
        'registry-requires-login',
        _E,
        'no-credentials',
        'The registry requires authentication and the client has no credential for it.',
        what=(
            'Reports a registry that refuses anonymous access (401, or an empty\n'
            '  anonymous token) while the client resolved no credential for it.  When a\n'
            '  credential exists under a key the client does not look up, the cause is\n'
            '  `credential-not-matched` instead.'
        ),
        why=(
            'Docker prints `no basic auth credentials` or `pull access denied ... may\n'
            "  require 'docker login'`; nothing is wrong with the image."
        ),
        example=(
            '~/.docker/config.json has `auths["https://pkg.harness.io/v2/"]` while the\n'
            '  image is pkg.harness.io/acme/docker/web:1.4 (Docker looks up\n'
            '  `pkg.harness.io`).'
        ),
        fix='Log in to exactly the host of the image reference:',
        safety='  printf \'%s\' "$TOKEN" | docker login HOST -u USER --password-stdin',
    ),
    rule(
        'DKR104',
        'registry-access-denied',
        _E,
        'permission-denied',
        'Authenticated, but the principal may not pull (or push) this repository.',
        what=(
            'Reports a credential the registry accepts whose token grants no access to\n'
            '  the repository (an empty `access` claim), or that the registry refuses with\n'
            '  401 `insufficient_scope` or 403 `DENIED`.'
        ),
        why=(
            'The login works (`docker login` only checks /v2/), the pull does not:\n'
            '  `denied: requested access to the resource is denied`.  Pipelines are the\n'
            "  classic case: a manual run uses the triggering user's permissions, while\n"
            '  webhook, schedule and IDP triggers run as a service account that may lack\n'
            '  them.  Pulls need read, pushes need write.'
        ),
        example='A service account token with no role on registry docker-prod.',
        fix='Grant the principal read (pull) or write (push) on the registry, or use a',
        safety='credential of a principal that has it.  No automatic fix.',
    ),
    rule(
        'DKR105',
        'image-not-found',
        _E,
        'not-found',
        'The registry answered 404: account, registry, repository or tag is wrong.',
        what=(
            'Reports a 404 for the manifest after authentication succeeded, naming the\n'
            '  part that is wrong from the error code: ROOT_NOT_FOUND (account),\n'
            '  REGISTRY_NOT_FOUND (registry), NAME_UNKNOWN (repository -- or the registry\n'
            '  is not an OCI/Docker registry), MANIFEST_UNKNOWN (tag or digest).'
        ),
        why=(
            'Docker prints `manifest unknown` or `not found`; with several path segments\n'
            '  it is not obvious which one is wrong.'
        ),
        example='pkg.harness.io/acme/docker-prod/web:1.5 where only 1.4 was pushed.',
        fix='Correct the reference (check the tag list in the registry UI, or',
        safety='`skopeo list-tags docker://HOST/REPO`).  No automatic fix.',
    ),
    rule(
        'DKR106',
        'image-blocked-by-policy',
        _E,
        'blocked-by-policy',
        'The registry refuses the image because of a policy (quarantine, firewall).',
        what=(
            'Reports a 403 whose message says a policy blocked the artifact\n'
            '  ("Artifact is quarantined", "blocked due to policy violations").'
        ),
        why=(
            'It looks like a permission problem, but no credential or role change helps:\n'
            '  the artifact itself is blocked.'
        ),
        example='A base image with a critical CVE quarantined by the dependency firewall.',
        fix="Use an allowed version, or ask the registry's administrators to review the",
        safety='quarantine.  No automatic fix.',
    ),
    rule(
        'DKR107',
        'registry-rate-limited',
        _E,
        'rate-limited',
        'The registry throttles requests (429 Too Many Requests).',
        what='Reports a 429 (or TOOMANYREQUESTS) from the registry or its token endpoint.',
        why=(
            'Pulls fail intermittently.  Anonymous pulls have far lower limits, so a\n'
            '  credential that is not sent (or not matched) often shows up as rate\n'
            '  limiting.'
        ),
        example=(
            'toomanyrequests: You have reached your pull rate limit (Docker Hub,\n'
            '  anonymous).'
        ),
        fix='Make sure the client sends a credential (docker login HOST), use a mirror,',
        safety='or wait.  No automatic fix.',
    ),
    rule(
        'DKR108',
        'registry-clock-skew',
        _W,
        'clock-skew',
        "This machine's clock disagrees with the registry's.",
        what=(
            "Compares the registry's `Date` header with this machine's clock, and checks\n"
            "  a freshly issued token's `nbf`/`exp` against it."
        ),
        why=(
            'Bearer tokens live minutes to hours; a clock several minutes off makes\n'
            '  them "not valid yet" or "expired" on arrival, which the registry reports as\n'
            '  a plain 401.'
        ),
        example='A VM resumed from suspend with its clock 2 hours behind.',
        fix='Synchronise the clock (`timedatectl set-ntp true`, `chronyc makestep`).',
        safety='No automatic fix.',
    ),
    rule(
        'DKR109',
        'registry-no-auth-challenge',
        _E,
        'no-credentials',
        'The registry answers 401 without a WWW-Authenticate challenge.',
        what='Reports a 401 from /v2/ that carries no challenge.',
        why=(
            'Docker and the other OCI clients send credentials only in answer to a\n'
            '  challenge, so they never send one here: the registry (or a reverse proxy\n'
            '  in front of it that strips the header) wants preemptive authentication,\n'
            '  which these clients do not do.'
        ),
        example=(
            "A reverse proxy that answers 401 itself instead of passing the registry's\n"
            '  `WWW-Authenticate: Bearer ...` through.'
        ),
        fix="Have the operator return the registry's challenge header (or check that",
        safety='the host is the registry host, not a web UI or API host).  No automatic fix.',
    ),
    rule(
        'DKR110',
        'not-a-registry',
        _E,
        'wrong-url',
        'The host does not serve the registry API (/v2/ answers 404).',
        what='Reports a host whose /v2/ endpoint does not exist.',
        why=(
            'It is not an OCI registry host: a web UI, an API host, or a package\n'
            '  endpoint meant for npm/pip/Maven.'
        ),
        example='app.harness.io/acme/docker-prod/web:1.4 instead of pkg.harness.io/...',
        fix='Use the registry host from the registry\'s "Set up client" page.',
        safety='No automatic fix.',
    ),
    rule(
        'DKR111',
        'registry-server-error',
        _E,
        'connection-error',
        'The registry or its token endpoint answered with a server error.',
        what=(
            'Reports a 5xx, or an answer that makes no sense for the protocol (a token\n'
            '  endpoint that returns no token, a redirect loop).'
        ),
        why="The failure is on the registry side, not the credential's.",
        example='503 Service Unavailable from the token endpoint during an outage.',
        fix="Retry later; check the registry's status page.",
        safety='No automatic fix.',
    ),
    rule(
        'DKR112',
        'credential-sent-to-token-service',
        _I,
        None,
        'The client sends the registry credential to a token service on another origin.',
        what=(
            "Notes that the registry's challenge points at a token service (the realm)\n"
            '  on another scheme, host or port, and that the client sends the registry\n'
            '  credential there -- Docker does, as the token protocol requires.'
        ),
        why=(
            "The credential's exposure is wider than the registry host; over plain http\n"
            '  it travels unencrypted.  hardoctor sends it only where the client would.'
        ),
        example='registry.example.com challenging with realm="https://auth.example.com/token".',
        fix="Nothing to fix when the token service is the registry's own; make sure the",
        safety='realm uses https.',
    ),
    rule(
        'DKR113',
        'registry-refuses-issued-token',
        _E,
        'token-invalid',
        'The registry refuses a token its own token endpoint just issued.',
        what=(
            'Reports a registry that answers 401 `invalid_token` for a token fresh from\n'
            '  the token endpoint named in its own challenge.'
        ),
        why=(
            'Every pull fails although the credential is fine: the token endpoint signs\n'
            '  tokens the registry does not trust (issuer, key or audience mismatch), or\n'
            '  issues them already expired.'
        ),
        example=(
            'A token service rotated its signing key and the registry still has the old\n'
            '  certificate bundle.'
        ),
        fix="The registry's operator must fix the token configuration; when only this",
        safety='machine is affected, check its clock.  No automatic fix.',
    ),
)
