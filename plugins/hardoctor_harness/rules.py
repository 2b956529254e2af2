"""The rules this plugin registers: ``TOK`` (any registry's tokens) and
``HAR`` (Harness Artifact Registry).  Each has a full ``explain`` page."""

from __future__ import annotations

from hardoctor.model import Rule, Severity

E, W = Severity.ERROR, Severity.WARNING

TOK_RULES = (
    Rule(
        code="TOK001",
        name="token-malformed",
        severity=E,
        cause="token-malformed",
        summary="The stored token has stray whitespace, quotes or characters no token has.",
        explain="""\
What it does
  Looks at every stored secret (any client, any registry) for damage that
  happens when a token is copied: a trailing newline, leading or trailing
  spaces, surrounding quotes, invisible characters (zero-width space, BOM,
  no-break space), typographic quotes or dashes, control characters, a
  masked copy ("abc…" or "***"), or a value encoded twice.

Why it matters
  Clients send the value byte for byte.  "TOKEN\\n" or "\\"TOKEN\\"" is a
  different token, so the registry answers 401 although the token itself is
  fine -- which makes people regenerate tokens that never were the problem.

Example
  echo "$TOKEN" > file, then `docker login --password-stdin < file` on a
  tool that keeps the newline; or  "_authToken=\\"pat.…\\"" in .npmrc.

Fix
  Store the token again without the extra characters (use printf '%s', not
  echo; no quotes around the value).  hardoctor shows the same fingerprint
  for the clean token elsewhere, so you can see whether the token itself is
  good.  No automatic fix: the owning client plugin may offer one.
""",
    ),
    Rule(
        code="TOK002",
        name="token-placeholder",
        severity=E,
        cause="token-malformed",
        summary="The stored token is placeholder text or an unexpanded ${VARIABLE}.",
        explain="""\
What it does
  Reports secrets that are placeholders copied from documentation or
  templates (<token>, YOUR_TOKEN, changeme, xxx) and references that
  nothing expanded: ${NPM_TOKEN} in a file the client reads literally,
  {{ .Values.token }} from an unrendered template.

Why it matters
  The client sends the placeholder as the password; the registry answers
  401.  Docker's config.json, pip.conf and Kubernetes secrets never expand
  environment variables, so ${VAR} there is always literal.

Example
  "auth": base64("dev@acme.io:${HARNESS_TOKEN}") in ~/.docker/config.json.

Fix
  Put the real token there, or use the client's own indirection (npm
  expands ${VAR} in .npmrc; Maven ${env.VAR} in settings.xml).  No
  automatic fix.
""",
    ),
    Rule(
        code="TOK003",
        name="email-as-password",
        severity=E,
        cause="token-malformed",
        summary="The password slot holds an e-mail address, not a token.",
        explain="""\
What it does
  Reports a credential whose password (token) is an e-mail address --
  usually because username and password were swapped, or the e-mail was
  pasted into both fields.

Why it matters
  Registries check the password; an e-mail never authenticates, so every
  request is 401.

Example
  <server><username>pat.…</username><password>dev@acme.io</password></server>

Fix
  Username = your login e-mail (or what the registry documents), password =
  the token.  No automatic fix.
""",
    ),
    Rule(
        code="TOK004",
        name="token-as-username",
        severity=W,
        cause="token-malformed",
        summary="A token was pasted into the username field.",
        explain="""\
What it does
  Reports a username that is a token (a Harness pat./sat. token, a JWT, an
  npm_ token, a long random string).  It is an error when the password is
  then not a token (the two fields are swapped), a warning otherwise.

Why it matters
  Registries authenticate with the password; a token in the username is
  ignored at best, and it is shown in logs, `docker info` and error
  messages where passwords are hidden.

Example
  docker login pkg.harness.io -u pat.AcmeX1.… -p dev@acme.io

Fix
  Log in again with your e-mail as username and the token as password.
  If the token was exposed in logs, revoke it.  No automatic fix.
""",
    ),
    Rule(
        code="TOK005",
        name="token-expired",
        severity=E,
        cause="token-expired",
        summary="The stored token's own expiry (JWT exp) has passed.",
        explain="""\
What it does
  Reads the expiry a token carries (a JWT's exp claim) and reports a token
  whose expiry has passed.  (Harness PAT/SAT tokens carry no expiry; HAR101
  covers them.)

Why it matters
  The registry refuses an expired token with 401; nothing on the client
  side says why.

Example
  A registry bearer token (JWT, ~24 h) saved into a config by a script, or
  an SSO token that expired overnight.

Fix
  Obtain a fresh token from its issuer and store it (log in again).  No
  automatic fix.
""",
    ),
    Rule(
        code="TOK006",
        name="token-expiring-soon",
        severity=W,
        cause="token-expiring-soon",
        summary="The stored token (JWT) expires within the warning window.",
        explain="""\
What it does
  Warns when a token's own expiry is within --expiry-warning days (7 by
  default).

Why it matters
  Builds start failing with 401 on that date; renewing before it avoids
  the outage.

Example
  exp is in 2 days.

Fix
  Renew the token and store it again before it expires.  No automatic fix.
""",
    ),
    Rule(
        code="TOK007",
        name="clock-skew",
        severity=W,
        cause="clock-skew",
        summary="A token says it was issued (or becomes valid) in the future: the clock is off.",
        explain="""\
What it does
  Compares a token's issue time (JWT iat, nbf; Harness validFrom) with the
  local clock.  A token from the future means this machine's clock is
  behind (or the issuer's ahead).

Why it matters
  Expiry arithmetic -- ours and the client's -- is off by the same amount,
  and tokens checked locally (nbf) are refused as "not yet valid".

Example
  iat is 40 minutes ahead of `date -u`.

Fix
  Synchronise the clock (timedatectl set-ntp true; on WSL/VMs, restart the
  time sync).  No automatic fix.
""",
    ),
)

HAR_RULES = (
    Rule(
        code="HAR101",
        name="har-token-expired",
        severity=E,
        cause="token-expired",
        summary="The Harness token (PAT/SAT) has expired -- the classic 401 after 30 days.",
        explain="""\
What it does
  Finds when a stored Harness personal access token (pat.…) or service
  account token (sat.…) expires: from the Harness API
  (POST /ng/api/token/validate; with HARNESS_API_KEY, ~/.harness/auth.json
  or --harness-api-key-stdin as the caller, even an expired token's date is
  known), else as an estimate: when the credential was stored + 30 days,
  the Setup Client default.  The finding says which source it used and
  lists every place the same token (same fingerprint) is stored.

Why it matters
  HAR answers 401 Unauthorized for an expired token without saying why.
  Setup Client tokens expire after 30 days; each copy of the token (Docker
  config, .npmrc, pull secrets) expires with it.

Example
  ~/.docker/config.json and Secret shop/har-pull hold pat.AcmeX1.ab12….,
  which expired on 2026-11-21 (from the Harness API).

Fix
  Create a new token (Registries → REGISTRY → Set up client, 30 days; or
  Account settings → API keys for a longer-lived one) and store it in every
  listed place, e.g.
    printf '%s' "$TOKEN" | docker login pkg.harness.io -u EMAIL --password-stdin
  Old tokens keep working until their own expiry.  No automatic fix: only
  you can create the token.
""",
    ),
    Rule(
        code="HAR102",
        name="har-token-expiring-soon",
        severity=W,
        cause="token-expiring-soon",
        summary="The Harness token expires within the warning window.",
        explain="""\
What it does
  Warns when a stored Harness PAT/SAT expires within --expiry-warning days
  (7 by default), with the date, its source and every place it is stored.

Why it matters
  On that date every client using it gets 401; replacing it first avoids
  the outage.

Example
  pat.AcmeX1.ab12… expires on 2026-11-21 (in 3 days, from the Harness API).

Fix
  Create a new token now and store it in each listed place; the old one
  keeps working until its own expiry, so there is no gap.  No automatic fix.
""",
    ),
    Rule(
        code="HAR103",
        name="har-token-rejected",
        severity=E,
        cause="token-invalid",
        summary="The Harness API rejects the token, and it is not known to have expired.",
        explain="""\
What it does
  Asks the Harness API about the token.  401 (or INVALID_TOKEN) while the
  token is not known to be expired means it was revoked or deleted, belongs
  to another Harness cluster, or was mistyped.

Why it matters
  HAR will refuse it the same way: 401 on every pull and push.

Example
  The token was deleted under Profile → My API Keys, but ~/.npmrc still
  has it.

Fix
  Create a new token and store it where this one is.  If you believe the
  token is valid, check --harness-api points at your cluster
  (app.harness.io, app3.harness.io, accounts.eu.harness.io, ...).  No
  automatic fix.
""",
    ),
    Rule(
        code="HAR104",
        name="har-token-truncated",
        severity=E,
        cause="token-malformed",
        summary="The value starts like a Harness token but is cut off or mangled.",
        explain="""\
What it does
  Checks the structure of pat./sat. values: four dot-separated parts
  (pat.ACCOUNT.TOKEN_ID.SECRET) of letters, digits, '_' and '-'.  Reports a
  missing secret part, a too-short secret, empty parts, characters no
  Harness token contains, or an upper-case prefix.

Why it matters
  A partial token never authenticates; HAR answers 401.

Example
  pat.AcmeX1.6418b2a4ef2d1e3b41cb12a1  (the secret after the last dot is
  missing: the copy stopped at a line wrap).

Fix
  Copy the whole token again (it is shown only once: create a new one if
  you no longer have it).  No automatic fix.
""",
    ),
    Rule(
        code="HAR105",
        name="account-mismatch",
        severity=E,
        cause="account-mismatch",
        summary="The Harness token belongs to another account than the registry URL.",
        explain="""\
What it does
  Compares the account ID inside a PAT/SAT (its second part) with the
  account in the registry URL or image path.  OCI paths carry the account
  lower-cased, so they compare case-insensitively; /pkg/ URLs keep the
  case.

Why it matters
  A token only works in its own account: HAR answers 401 (or 404
  ROOT_NOT_FOUND) although the token is valid.

Example
  Image pkg.harness.io/acmex1/docker-prod/web, token pat.OtherAcct.….

Fix
  Use a token created in the URL's account, or fix the URL if the account
  in it is wrong.  No automatic fix.
""",
    ),
    Rule(
        code="HAR106",
        name="har-username-not-email",
        severity=W,
        cause="config-invalid",
        summary="The username for HAR is not the account e-mail Setup Client uses.",
        explain="""\
What it does
  For Basic-auth credentials on HAR hosts (Docker, Maven, pip, pull
  secrets), warns when the username is not an e-mail (or another e-mail
  than the token's owner, when the Harness API says who that is).  The
  hc CLI's "harness" is accepted.

Why it matters
  HAR authenticates with the token and, in the open-source build, ignores
  the username -- so this is only a warning.  But Setup Client writes your
  e-mail, and when a 401 is being chased, a surprising username is the
  first thing support asks about.

Example
  docker login pkg.harness.io -u admin

Fix
  Log in again with your Harness login e-mail as username.  No automatic
  fix.
""",
    ),
    Rule(
        code="HAR201",
        name="har-url-missing-pkg",
        severity=E,
        cause="wrong-url",
        summary="A HAR package URL lacks the /pkg/ segment.",
        explain="""\
What it does
  Checks npm, Python, Maven and other non-OCI registry URLs on HAR hosts for
  the https://HOST/pkg/ACCOUNT/REGISTRY/TYPE/ layout.

Why it matters
  Without /pkg/, HAR routes the request to its OCI handler, which answers
  401/404 for package requests.

Example
  registry=https://pkg.harness.io/AcmeX1/npm-prod/npm/

Fix
  Insert /pkg/: https://pkg.harness.io/pkg/AcmeX1/npm-prod/npm/ (and the
  matching //…:_authToken key).  The finding shows the corrected URL.  No
  automatic fix yet.
""",
    ),
    Rule(
        code="HAR202",
        name="har-url-bad-type",
        severity=E,
        cause="wrong-url",
        summary="A HAR package URL has a package-type segment HAR does not serve.",
        explain="""\
What it does
  Checks the TYPE in https://HOST/pkg/ACCOUNT/REGISTRY/TYPE/ against the
  types HAR serves (npm, python, maven, helm, nuget, go, rpm, generic,
  cargo, conda, composer, dart, debian, swift, cran, puppet, huggingface)
  and suggests the intended one (pip → python, yarn → npm, gradle →
  maven).  Also reports URLs that stop before the type.

Why it matters
  HAR answers 404 (or 401) for an unknown type; clients show only "not
  found".

Example
  https://pkg.harness.io/pkg/AcmeX1/py-prod/pip/simple

Fix
  Use the type segment from Setup Client (here: /python/simple).  No
  automatic fix yet.
""",
    ),
    Rule(
        code="HAR203",
        name="har-url-pypi",
        severity=W,
        cause="wrong-url",
        summary="A HAR Python URL uses /pypi/ where Setup Client uses /python/.",
        explain="""\
What it does
  Notes Python index URLs with /pypi/ instead of /python/.  Two spellings
  exist in the wild: Setup Client shows /python/simple, Harness's own hc
  CLI writes /pypi/simple/.  It is an error when a probe of the /pypi/ URL
  got 404.

Why it matters
  If your HAR version serves only /python/, pip reports "no matching
  distribution" -- a 404 that looks like a missing package.

Example
  index-url = https://pkg.harness.io/pkg/AcmeX1/py-prod/pypi/simple

Fix
  Use https://pkg.harness.io/pkg/AcmeX1/py-prod/python/simple.  No
  automatic fix yet.
""",
    ),
    Rule(
        code="HAR204",
        name="har-url-org-project",
        severity=E,
        cause="wrong-url",
        summary="A HAR URL or image path has an org/project inserted after the account.",
        explain="""\
What it does
  Looks for extra path segments between the account and the registry: an
  org (often "default") and a project, copied from the Harness UI's URL.

Why it matters
  HAR registry URLs carry only ACCOUNT/REGISTRY -- org and project are not
  part of them -- so HAR answers 404 (REGISTRY_NOT_FOUND) or 401.

Example
  pkg.harness.io/acmex1/default/shop/docker-prod/web:1.4

Fix
  Drop the org and project: pkg.harness.io/acmex1/docker-prod/web:1.4.  No
  automatic fix yet.
""",
    ),
    Rule(
        code="HAR205",
        name="har-oci-uppercase-account",
        severity=E,
        cause="wrong-url",
        summary="A HAR image path has the account ID in upper case.",
        explain="""\
What it does
  Checks the account segment of HAR image references.  Harness account IDs
  have upper-case letters, but OCI repository names must be lower-case, so
  HAR uses the account ID lower-cased in image paths.

Why it matters
  Docker refuses the reference ("repository name must be lowercase")
  before sending anything; other tools get 404.

Example
  docker pull pkg.harness.io/AcmeX1/docker-prod/web:1.4

Fix
  Lower-case the account: pkg.harness.io/acmex1/docker-prod/web:1.4.  (In
  /pkg/ URLs for npm, Python, Maven the account keeps its case.)  No
  automatic fix yet.
""",
    ),
    Rule(
        code="HAR206",
        name="har-oci-missing-account",
        severity=E,
        cause="wrong-url",
        summary="A HAR image path leaves out the account and/or the registry.",
        explain="""\
What it does
  Checks that HAR image references have the form
  HOST/ACCOUNT/REGISTRY/IMAGE[:TAG].

Why it matters
  HAR cannot tell which account or registry is meant and answers 401
  (without credentials) or 404; documentation examples often show
  pkg.harness.io/image:tag.

Example
  docker pull pkg.harness.io/web:1.4

Fix
  Use the full path from the registry's Set up client page:
  pkg.harness.io/acmex1/docker-prod/web:1.4.  No automatic fix.
""",
    ),
    Rule(
        code="HAR207",
        name="har-oci-under-pkg",
        severity=E,
        cause="wrong-url",
        summary="A Docker/OCI reference uses the /pkg/ layout meant for other package types.",
        explain="""\
What it does
  Reports image references or Docker/OCI registry URLs on HAR hosts that
  start with /pkg/ or use a docker/oci type segment.

Why it matters
  Docker and Helm OCI speak the registry protocol at
  HOST/ACCOUNT/REGISTRY/IMAGE; under /pkg/ HAR finds no image (404).

Example
  pkg.harness.io/pkg/AcmeX1/docker-prod/docker/web:1.4

Fix
  Use pkg.harness.io/acmex1/docker-prod/web:1.4.  No automatic fix.
""",
    ),
)

RULES = TOK_RULES + HAR_RULES
