"""The rules this plugin registers: ``HAR`` (Harness Artifact Registry).
Each has a full ``explain`` page.  The generic ``TOK`` rules moved to the
core (:mod:`hardoctor.tokencheck`): they apply to every registry."""

from __future__ import annotations

from hardoctor.model import Severity
from hardoctor.rules import rule

E, W = Severity.ERROR, Severity.WARNING

RULES = (
    rule(
        'HAR101',
        'har-token-expired',
        E,
        'token-expired',
        'The Harness token (PAT/SAT) has expired -- the classic 401 after 30 days.',
        what=(
            'Finds when a stored Harness personal access token (pat.…) or service\n'
            '  account token (sat.…) expires: from the Harness API\n'
            '  (POST /ng/api/token/validate; with HARNESS_API_KEY, ~/.harness/auth.json\n'
            "  or --harness-api-key-stdin as the caller, even an expired token's date is\n"
            '  known), else as an estimate: when the credential was stored + 30 days,\n'
            '  the Setup Client default.  The finding says which source it used and\n'
            '  lists every place the same token (same fingerprint) is stored.'
        ),
        why=(
            'HAR answers 401 Unauthorized for an expired token without saying why.\n'
            '  Setup Client tokens expire after 30 days; each copy of the token (Docker\n'
            '  config, .npmrc, pull secrets) expires with it.'
        ),
        example=(
            '~/.docker/config.json and Secret shop/har-pull hold pat.AcmeX1.ab12….,\n'
            '  which expired on 2026-11-21 (from the Harness API).'
        ),
        fix=(
            'Create a new token (Registries → REGISTRY → Set up client, 30 days; or\n'
            '  Account settings → API keys for a longer-lived one) and store it in every\n'
            '  listed place, e.g.\n'
            '    printf \'%s\' "$TOKEN" | docker login pkg.harness.io -u EMAIL --password-stdin\n'
            '  Old tokens keep working until their own expiry.'
        ),
        safety='No automatic fix: only you can create the token.',
        rank=1,
    ),
    rule(
        'HAR102',
        'har-token-expiring-soon',
        W,
        'token-expiring-soon',
        'The Harness token expires within the warning window.',
        what=(
            'Warns when a stored Harness PAT/SAT expires within --expiry-warning days\n'
            '  (7 by default), with the date, its source and every place it is stored.'
        ),
        why=(
            'On that date every client using it gets 401; replacing it first avoids\n'
            '  the outage.'
        ),
        example='pat.AcmeX1.ab12… expires on 2026-11-21 (in 3 days, from the Harness API).',
        fix=(
            'Create a new token now and store it in each listed place; the old one\n'
            '  keeps working until its own expiry, so there is no gap.'
        ),
        rank=1,
    ),
    rule(
        'HAR103',
        'har-token-rejected',
        E,
        'token-invalid',
        'The Harness API rejects the token, and it is not known to have expired.',
        what=(
            'Asks the Harness API about the token.  401 (or INVALID_TOKEN) while the\n'
            '  token is not known to be expired means it was revoked or deleted, belongs\n'
            '  to another Harness cluster, or was mistyped.'
        ),
        why='HAR will refuse it the same way: 401 on every pull and push.',
        example=(
            'The token was deleted under Profile → My API Keys, but ~/.npmrc still\n'
            '  has it.'
        ),
        fix=(
            'Create a new token and store it where this one is.  If you believe the\n'
            '  token is valid, check --harness-api points at your cluster\n'
            '  (app.harness.io, app3.harness.io, accounts.eu.harness.io, ...).'
        ),
        rank=1,
    ),
    rule(
        'HAR104',
        'har-token-truncated',
        E,
        'token-malformed',
        'The value starts like a Harness token but is cut off or mangled.',
        what=(
            'Checks the structure of pat./sat. values: four dot-separated parts\n'
            "  (pat.ACCOUNT.TOKEN_ID.SECRET) of letters, digits, '_' and '-'.  Reports a\n"
            '  missing secret part, a too-short secret, empty parts, characters no\n'
            '  Harness token contains, or an upper-case prefix.'
        ),
        why='A partial token never authenticates; HAR answers 401.',
        example=(
            'pat.AcmeX1.6418b2a4ef2d1e3b41cb12a1  (the secret after the last dot is\n'
            '  missing: the copy stopped at a line wrap).'
        ),
        fix=(
            'Copy the whole token again (it is shown only once: create a new one if\n'
            '  you no longer have it).'
        ),
        rank=1,
    ),
    rule(
        'HAR105',
        'account-mismatch',
        E,
        'account-mismatch',
        'The Harness token belongs to another account than the registry URL.',
        what=(
            'Compares the account ID inside a PAT/SAT (its second part) with the\n'
            '  account in the registry URL or image path.  OCI paths carry the account\n'
            '  lower-cased, so they compare case-insensitively; /pkg/ URLs keep the\n'
            '  case.'
        ),
        why=(
            'A token only works in its own account: HAR answers 401 (or 404\n'
            '  ROOT_NOT_FOUND) although the token is valid.'
        ),
        example='Image pkg.harness.io/acmex1/docker-prod/web, token pat.OtherAcct.….',
        fix=(
            "Use a token created in the URL's account, or fix the URL if the account\n"
            '  in it is wrong.'
        ),
        rank=1,
    ),
    rule(
        'HAR106',
        'har-username-not-email',
        W,
        'config-invalid',
        'The username for HAR is not the account e-mail Setup Client uses.',
        what=(
            'For Basic-auth credentials on HAR hosts (Docker, Maven, pip, pull\n'
            '  secrets), warns when the username is not an e-mail (or another e-mail\n'
            "  than the token's owner, when the Harness API says who that is).  The\n"
            '  hc CLI\'s "harness" is accepted.'
        ),
        why=(
            'HAR authenticates with the token and, in the open-source build, ignores\n'
            '  the username -- so this is only a warning.  But Setup Client writes your\n'
            '  e-mail, and when a 401 is being chased, a surprising username is the\n'
            '  first thing support asks about.'
        ),
        example='docker login pkg.harness.io -u admin',
        fix='Log in again with your Harness login e-mail as username.',
    ),
    rule(
        'HAR201',
        'har-url-missing-pkg',
        E,
        'wrong-url',
        'A HAR package URL lacks the /pkg/ segment.',
        what=(
            'Checks npm, Python, Maven and other non-OCI registry URLs on HAR hosts for\n'
            '  the https://HOST/pkg/ACCOUNT/REGISTRY/TYPE/ layout.'
        ),
        why=(
            'Without /pkg/, HAR routes the request to its OCI handler, which answers\n'
            '  401/404 for package requests.'
        ),
        example='registry=https://pkg.harness.io/AcmeX1/npm-prod/npm/',
        fix=(
            'Insert /pkg/: https://pkg.harness.io/pkg/AcmeX1/npm-prod/npm/ (and the\n'
            '  matching //…:_authToken key).  The finding shows the corrected URL.'
        ),
        safety='No automatic fix yet.',
        rank=1,
    ),
    rule(
        'HAR202',
        'har-url-bad-type',
        E,
        'wrong-url',
        'A HAR package URL has a package-type segment HAR does not serve.',
        what=(
            'Checks the TYPE in https://HOST/pkg/ACCOUNT/REGISTRY/TYPE/ against the\n'
            '  types HAR serves (npm, python, maven, helm, nuget, go, rpm, generic,\n'
            '  cargo, conda, composer, dart, debian, swift, cran, puppet, huggingface)\n'
            '  and suggests the intended one (pip → python, yarn → npm, gradle →\n'
            '  maven).  Also reports URLs that stop before the type.'
        ),
        why=(
            'HAR answers 404 (or 401) for an unknown type; clients show only "not\n'
            '  found".'
        ),
        example='https://pkg.harness.io/pkg/AcmeX1/py-prod/pip/simple',
        fix='Use the type segment from Setup Client (here: /python/simple).',
        safety='No automatic fix yet.',
        rank=1,
    ),
    rule(
        'HAR203',
        'har-url-pypi',
        W,
        'wrong-url',
        'A HAR Python URL uses /pypi/ where Setup Client uses /python/.',
        what=(
            'Notes Python index URLs with /pypi/ instead of /python/.  Two spellings\n'
            "  exist in the wild: Setup Client shows /python/simple, Harness's own hc\n"
            '  CLI writes /pypi/simple/.  It is an error when a probe of the /pypi/ URL\n'
            '  got 404.'
        ),
        why=(
            'If your HAR version serves only /python/, pip reports "no matching\n'
            '  distribution" -- a 404 that looks like a missing package.'
        ),
        example='index-url = https://pkg.harness.io/pkg/AcmeX1/py-prod/pypi/simple',
        fix='Use https://pkg.harness.io/pkg/AcmeX1/py-prod/python/simple.',
        safety='No automatic fix yet.',
        rank=1,
    ),
    rule(
        'HAR204',
        'har-url-org-project',
        E,
        'wrong-url',
        'A HAR URL or image path has an org/project inserted after the account.',
        what=(
            'Looks for extra path segments between the account and the registry: an\n'
            '  org (often "default") and a project, copied from the Harness UI\'s URL.'
        ),
        why=(
            'HAR registry URLs carry only ACCOUNT/REGISTRY -- org and project are not\n'
            '  part of them -- so HAR answers 404 (REGISTRY_NOT_FOUND) or 401.'
        ),
        example='pkg.harness.io/acmex1/default/shop/docker-prod/web:1.4',
        fix='Drop the org and project: pkg.harness.io/acmex1/docker-prod/web:1.4.',
        safety='No automatic fix yet.',
        rank=1,
    ),
    rule(
        'HAR205',
        'har-oci-uppercase-account',
        E,
        'wrong-url',
        'A HAR image path has the account ID in upper case.',
        what=(
            'Checks the account segment of HAR image references.  Harness account IDs\n'
            '  have upper-case letters, but OCI repository names must be lower-case, so\n'
            '  HAR uses the account ID lower-cased in image paths.'
        ),
        why=(
            'Docker refuses the reference ("repository name must be lowercase")\n'
            '  before sending anything; other tools get 404.'
        ),
        example='docker pull pkg.harness.io/AcmeX1/docker-prod/web:1.4',
        fix=(
            'Lower-case the account: pkg.harness.io/acmex1/docker-prod/web:1.4.  (In\n'
            '  /pkg/ URLs for npm, Python, Maven the account keeps its case.)'
        ),
        safety='No automatic fix yet.',
        rank=1,
    ),
    rule(
        'HAR206',
        'har-oci-missing-account',
        E,
        'wrong-url',
        'A HAR image path leaves out the account and/or the registry.',
        what=(
            'Checks that HAR image references have the form\n'
            '  HOST/ACCOUNT/REGISTRY/IMAGE[:TAG].'
        ),
        why=(
            'HAR cannot tell which account or registry is meant and answers 401\n'
            '  (without credentials) or 404; documentation examples often show\n'
            '  pkg.harness.io/image:tag.'
        ),
        example='docker pull pkg.harness.io/web:1.4',
        fix=(
            "Use the full path from the registry's Set up client page:\n"
            '  pkg.harness.io/acmex1/docker-prod/web:1.4.'
        ),
        rank=1,
    ),
    rule(
        'HAR207',
        'har-oci-under-pkg',
        E,
        'wrong-url',
        'A Docker/OCI reference uses the /pkg/ layout meant for other package types.',
        what=(
            'Reports image references or Docker/OCI registry URLs on HAR hosts that\n'
            '  start with /pkg/ or use a docker/oci type segment.'
        ),
        why=(
            'Docker and Helm OCI speak the registry protocol at\n'
            '  HOST/ACCOUNT/REGISTRY/IMAGE; under /pkg/ HAR finds no image (404).'
        ),
        example='pkg.harness.io/pkg/AcmeX1/docker-prod/docker/web:1.4',
        fix='Use pkg.harness.io/acmex1/docker-prod/web:1.4.',
        rank=1,
    ),
)
