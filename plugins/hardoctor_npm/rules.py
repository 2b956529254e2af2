"""The npm plugin's rules: NPM0xx offline (npm/pnpm ``.npmrc``), NPM03x
Yarn Berry, NPM1xx from probing the registry."""

from __future__ import annotations

from hardoctor.model import Applicability, Rule, Severity
from hardoctor.rules import rule_page

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
SAFE, UNSAFE = Applicability.SAFE, Applicability.UNSAFE


def _rule(code: str, name: str, sev: Severity, cause: str | None, summary: str,
          what: str, why: str, example: str, fix: str, fixable: Applicability | None = None) -> Rule:
    safety = {
        None: "No automatic fix.",
        SAFE: "`hardoctor fix --apply` repairs it; the fix is safe (npm sends the same "
              "credential to the same registry afterwards, only now it matches).",
        UNSAFE: "`hardoctor fix --unsafe --apply` repairs it; the fix is unsafe because the "
                "client then needs something you must provide (an environment variable).",
    }[fixable]
    explain = rule_page(what, why, example, fix, safety)
    return Rule(code, name, sev, summary, explain, cause, fixable, "npm")


RULES = (
    _rule("NPM001", "unscoped-auth", E, "config-invalid",
          "An auth key (`_authToken`, `_auth`, `username`, `_password`) is not scoped to a registry.",
          "Finds top-level `_authToken`, `_auth`, `username` and `_password` in every .npmrc layer.",
          "npm 9 and later refuse to run at all: every command fails with `npm error code "
          "ERR_INVALID_AUTH` / ``_authToken` must be renamed to `//registry.example/:_authToken` "
          "in user config` / `Please run `npm config fix``. npm 8 sent it to the default "
          "registry only; pnpm still does. A `username` or `_password` alone is simply dropped.",
          "_authToken=npm_abc123   (instead of //registry.npmjs.org/:_authToken=npm_abc123)",
          "Prefix the key with the default registry's nerf dart, as `npm config fix` does.", SAFE),
    _rule("NPM002", "always-auth", INFO, None,
          "`always-auth` is set; npm no longer has this option.",
          "Finds `always-auth` and `//host/:always-auth` in .npmrc files.",
          "Since npm 7.10 npm sends auth to every request under the registry key anyway; npm 9+ "
          "does not know the option (recent npm prints `Unknown user config \"always-auth\"` on "
          "every command). It never fixes a 401. Yarn 1 still reads it; Yarn Berry uses "
          "`npmAlwaysAuth` in .yarnrc.yml instead.",
          "always-auth=true",
          "Delete the line (unless Yarn 1 reads this file).", SAFE),
    _rule("NPM003", "auth-key-host-case", E, "credential-not-matched",
          "An auth key's host has upper-case letters, so npm never matches it.",
          "Compares the host of every `//host/path/:field` key with its lower-cased form.",
          "npm lower-cases the request URL's host (WHATWG URL) and compares keys as exact "
          "strings: `//Registry.Example.com/` never matches, npm sends no token and the "
          "registry answers 401 (or 404 for a private package).",
          "//Pkg.Harness.io/pkg/acct/reg/npm/:_authToken=...",
          "Lower-case the host in the key.", SAFE),
    _rule("NPM004", "auth-key-default-port", E, "credential-not-matched",
          "An auth key names the default port (`:443` for https, `:80` for http).",
          "Finds keys whose host carries the scheme's default port while the registry URL does not.",
          "URL parsing drops a default port from the request URL, so `//host:443/` is never "
          "equal to `//host/`: npm sends no token and gets 401.",
          "registry=https://npm.example.com/  with  //npm.example.com:443/:_authToken=...",
          "Remove the port from the key.", SAFE),
    _rule("NPM005", "auth-key-path-mismatch", E, "credential-not-matched",
          "An auth key and the registry URL differ in path or in a trailing slash.",
          "For every registry (default and `@scope:registry`), compares its nerf dart (the URL "
          "with the last path segment dropped unless it ends in `/`) with the auth keys on the "
          "same host, and walks the request path the way npm-registry-fetch does.",
          "A key whose path is not a prefix of the request path never matches: npm sends no "
          "token and gets 401. A key that matches only by the path walk (`//host/npm:` without "
          "the slash, or a registry URL without its trailing slash) works for `npm install` but "
          "`npm whoami` and `npm publish` look up the exact nerf dart and say `This command "
          "requires you to be logged in` (ENEEDAUTH); pnpm needs the trailing slash too.",
          "registry=https://pkg.harness.io/pkg/acct/reg/npm/\n"
          "  //pkg.harness.io/pkg/acct/npm/:_authToken=...   (registry name missing)",
          "Make the key's path equal the registry URL's nerf dart (and end the registry URL "
          "with `/`).", SAFE),
    _rule("NPM006", "env-unset", E, "env-unset",
          "A `${VAR}` in an .npmrc refers to a variable that is not set.",
          "Expands `${VAR}` in keys and values exactly as npm does and reports variables that "
          "are not set in the environment hardoctor runs in (also the `${VAR:-default}` form, "
          "which npm does not support).",
          "npm leaves an unset `${VAR}` in place and sends the literal text `${NPM_TOKEN}` as "
          "the token: the registry answers 401. `${VAR?}` would send nothing instead. pnpm "
          "supports `${VAR:-default}`, npm does not.",
          "//registry.example/:_authToken=${NPM_TOKEN}   with NPM_TOKEN unset in CI",
          "Export the variable before running npm (in CI: map the secret into the job's "
          "environment)."),
    _rule("NPM007", "password-not-base64", E, "token-malformed",
          "`_password` is not base64; npm decodes it anyway and sends garbage.",
          "Checks that every `:_password` value is standard base64 (npm stores the password "
          "base64-encoded).",
          "npm base64-decodes `_password` before building the Basic header; a plain password or "
          "token becomes different bytes and the registry answers 401.",
          "//registry.example/:_password=pat.Acct.tok.secret   (not encoded)",
          "Store the base64 of the password: `printf '%s' \"$PASSWORD\" | base64`.", UNSAFE),
    _rule("NPM008", "npm-auth-not-user-pass", E, "token-malformed",
          "`_auth` is not the base64 of `user:password`.",
          "Decodes every `:_auth` value and checks for `user:password`.",
          "npm sends `_auth` verbatim as `Authorization: Basic ...`; a bare token or an "
          "unencoded `user:pass` is refused with 401.",
          "//registry.example/:_auth=npm_abc123   (a token in the Basic slot)",
          "A token belongs in `:_authToken`; for Basic auth use "
          "`printf '%s' 'user:password' | base64`."),
    _rule("NPM009", "scope-registry-without-auth", W, "no-credentials",
          "A `@scope:registry` has no auth key that npm would send to it.",
          "Resolves each scoped registry's requests and finds no `_authToken`/`_auth`/"
          "`username`+`_password` on their path.",
          "Private scoped registries (HAR, GitHub Packages, Artifactory) answer 401 or 404 for "
          "anonymous requests; the token for the default registry is not sent to them.",
          "@acme:registry=https://pkg.harness.io/pkg/acct/reg/npm/   and no //pkg.harness.io/... key",
          "Add `//host/path/:_authToken=${NPM_TOKEN}` for that registry URL (`npm config set`)."),
    _rule("NPM010", "token-in-project-npmrc", W, "insecure-storage",
          "A literal token is stored in a project .npmrc inside a git work tree.",
          "Finds `_authToken`, `_auth` and `_password` values in the project .npmrc that are not "
          "`${VAR}` references, when the file is in a git work tree and not git-ignored.",
          "Project .npmrc files get committed: the token leaks to everyone with read access to "
          "the repository (and to its forks and CI logs).",
          "./.npmrc: //pkg.harness.io/pkg/acct/reg/npm/:_authToken=pat.acct.abc.def",
          "Replace the value with `${NPM_TOKEN}`, export NPM_TOKEN where npm runs, and revoke "
          "the committed token.", UNSAFE),
    _rule("NPM011", "npmrc-world-readable", W, "insecure-storage",
          "An .npmrc holding tokens can be read by other users.",
          "Checks the mode of user and global .npmrc files that hold secrets.",
          "npm writes ~/.npmrc with mode 600; a readable copy lets anyone on the machine take the token.",
          "-rw-r--r--  ~/.npmrc  with //registry/:_authToken=...",
          "`chmod 600 ~/.npmrc`.", SAFE),
    _rule("NPM012", "credential-shadowed", W, "credential-shadowed",
          "A higher-priority npm config layer overrides a credential for the same registry.",
          "Compares every layer's auth keys: project .npmrc over user ~/.npmrc over global, and "
          "`npm_config_*` variables over all files.",
          "Someone updates the token in ~/.npmrc, but the project's .npmrc (or an environment "
          "variable) still holds an old one, and npm keeps sending that: 401 after the 'fix'.",
          "./.npmrc:1 //registry/:_authToken=old   and   ~/.npmrc:1 //registry/:_authToken=new",
          "Remove the stale entry, or update it too."),
    _rule("NPM013", "auth-key-not-matched", E, "credential-not-matched",
          "npm sends no credential to a registry although a key for its host exists.",
          "Resolves the registry and lists keys on the same host that the path walk never reaches.",
          "The credential is configured but keyed so npm never picks it: the registry gets an "
          "anonymous request and answers 401.",
          "registry=https://npm.example.com/team/  with  //npm.example.com/other/:_authToken=...",
          "Key the credential under the registry URL's nerf dart (`npm config set "
          "//host/path/:_authToken ...`)."),
    _rule("NPM014", "npm-no-credentials", W, "no-credentials",
          "npm sends no credential to a private registry.",
          "Resolves the registry and finds no auth key for it at all.",
          "A private registry answers 401 (`npm error code E401`, `Unable to authenticate, "
          "need: Basic/Bearer`) or 404 for private packages.",
          "registry=https://pkg.harness.io/pkg/acct/reg/npm/   without a matching _authToken",
          "`npm config set //host/path/:_authToken \"$TOKEN\"` (or use `${NPM_TOKEN}` in the file)."),
    _rule("NPM015", "npm-clients-disagree", W, "credential-shadowed",
          "npm, pnpm and Yarn would send different credentials to the same registry.",
          "Resolves each client in use for the registry and compares what they send (by fingerprint).",
          "One tool works while another gets 401 against the same registry; Yarn Berry never "
          "reads .npmrc, pnpm honours keys npm refuses.",
          "npm uses ~/.npmrc; Yarn Berry has no npmAuthToken for the registry",
          "Configure the credential for every client you use (.yarnrc.yml for Yarn Berry)."),
    _rule("NPM016", "auth-key-in-section", E, "config-invalid",
          "An auth key sits under an `[section]` header, where npm never looks.",
          "Finds registry and auth keys that ini puts into a section object.",
          "npm reads only top-level keys: everything after `[section]` is ignored, so the "
          "token is never sent.",
          "[auth]\n  //registry/:_authToken=...",
          "Move the key above any `[section]` line (npm config files have no sections)."),
    _rule("NPM017", "duplicate-key", W, "config-invalid",
          "The same key is set twice in one .npmrc; only the last one counts.",
          "Finds repeated keys in one file.",
          "Editing the first copy changes nothing; the last line wins silently.",
          "//registry/:_authToken=new\n  //registry/:_authToken=old",
          "Delete the copy you do not want (identical copies are removed automatically).", SAFE),
    _rule("NPM018", "env-auth-ignored", W, "credential-not-matched",
          "An `npm_config_*` variable sets an unscoped auth key that npm ignores.",
          "Finds `NPM_CONFIG__AUTHTOKEN`, `NPM_CONFIG__AUTH` and similar variables.",
          "npm lower-cases variable names (`_authtoken`) and only honours auth scoped to a "
          "registry; the token in the variable is never sent.",
          "NPM_CONFIG__AUTHTOKEN=npm_abc123 npm install",
          "Reference a variable from the .npmrc instead: `//registry/:_authToken=${NPM_TOKEN}`."),
    _rule("NPM019", "line-without-equals", E, "config-invalid",
          "An auth or registry line has no `=`; npm reads it as a key set to `true`.",
          "Finds lines that look like `key value` or `key: value`.",
          "ini takes the whole line as the key with the value `true`: the intended key is unset "
          "and nothing is sent.",
          "//registry/:_authToken npm_abc123",
          "Write `key=value`."),
    _rule("NPM020", "workspace-npmrc-ignored", W, "credential-not-matched",
          "A workspace package has its own .npmrc, which npm ignores.",
          "Finds `.npmrc` in a workspace member when npm uses the workspace root.",
          "npm reads the project config at the workspace root only (it logs `ignoring workspace "
          "config at ...`); credentials in the member's file are never sent.",
          "packages/app/.npmrc  in a repo whose package.json has \"workspaces\"",
          "Move the lines to the .npmrc at the workspace root."),
    _rule("NPM021", "registry-not-url", E, "config-invalid",
          "A registry setting is not a URL npm can use.",
          "Parses `registry` and `@scope:registry` values as Node's URL parser does.",
          "npm drops an invalid `registry` (`invalid config registry=...`) and uses "
          "registry.npmjs.org instead; an invalid scoped registry makes installs fail with "
          "`Invalid URL`.",
          "registry=pkg.harness.io/pkg/acct/reg/npm/   (no https://)",
          "Write the full URL with `https://` and a trailing `/`."),
    _rule("NPM022", "har-npm-url-type", E, "wrong-url",
          "A HAR URL used as an npm registry is not an npm registry URL.",
          "Checks that npm registry URLs on HAR hosts are `https://HOST/pkg/ACCOUNT/REGISTRY/npm/`.",
          "HAR serves npm only under the `npm` type segment; a Maven or Python registry URL "
          "answers 404 for every package, and extra path after `npm/` breaks package URLs.",
          "registry=https://pkg.harness.io/pkg/acct/maven-reg/maven/",
          "Use the URL from the npm registry's Set up client page."),
    _rule("NPM023", "registry-missing-trailing-slash", W, "credential-not-matched",
          "A registry URL with a path does not end in `/`.",
          "Finds `registry`/`@scope:registry` URLs with a path and no trailing slash.",
          "npm's nerf dart drops the last path segment of such a URL: `npm login` stores the "
          "token under the parent path, and `npm whoami`/`npm publish` look it up there.",
          "registry=https://pkg.harness.io/pkg/acct/reg/npm",
          "Add the trailing slash.", SAFE),
    # -- Yarn Berry ----------------------------------------------------------------
    _rule("NPM030", "yarnrc-invalid", E, "config-invalid",
          "A .yarnrc.yml is not valid YAML.",
          "Parses every .yarnrc.yml Yarn reads.",
          "Yarn aborts every command: `Parse error when loading .yarnrc.yml; please check it's "
          "proper Yaml`.",
          "npmAuthToken ${NPM_TOKEN}   (missing colon)",
          "Fix the syntax at the reported line."),
    _rule("NPM031", "yarn-env-unset", E, "env-unset",
          "A `${VAR}` in .yarnrc.yml refers to a variable that is not set.",
          "Expands `${VAR}` as Yarn does.",
          "Yarn aborts every command with `Environment variable not found (VAR)` (use "
          "`${VAR:-}` for an optional one).",
          "npmAuthToken: ${NPM_TOKEN}   with NPM_TOKEN unset",
          "Export the variable, or write `${NPM_TOKEN:-}` when it is optional."),
    _rule("NPM032", "yarn-always-auth-missing", E, "credential-not-matched",
          "Yarn has a token for an unscoped private registry but will not send it.",
          "For the default registry of Yarn Berry, checks `npmAlwaysAuth` where the token is set.",
          "Yarn Berry sends auth for unscoped packages only with `npmAlwaysAuth: true`; "
          "otherwise every unscoped package request is anonymous and gets 401.",
          "npmRegistryServer: https://pkg.harness.io/pkg/acct/reg/npm\n  npmAuthToken: ${NPM_TOKEN}",
          "Add `npmAlwaysAuth: true` next to the token (`yarn config set npmAlwaysAuth true`)."),
    _rule("NPM033", "yarn-registry-key-slash", W, "credential-not-matched",
          "An `npmRegistries` key ends in `/`.",
          "Finds `npmRegistries` keys with a trailing slash.",
          "Yarn looks the registry up without the trailing slash; Yarn versions that do not "
          "normalise keys never find an entry written with one.",
          "npmRegistries:\n    \"https://npm.example.com/\":\n      npmAuthToken: ...",
          "Write the key exactly as the registry URL without the trailing slash."),
    _rule("NPM034", "yarn-unknown-setting", E, "config-invalid",
          "A .yarnrc.yml has an npm setting Yarn does not know.",
          "Finds registry/auth-looking settings that are not Yarn's (`_authToken`, "
          "`npmToken`, `registry`, `always-auth`, ...).",
          "In a project file Yarn refuses to start (`Unrecognized or legacy configuration "
          "settings found`); in the home file it ignores the setting, so no token is sent.",
          "npmToken: ${NPM_TOKEN}   (the setting is npmAuthToken)",
          "Use Yarn's names: npmAuthToken, npmAuthIdent, npmAlwaysAuth, npmRegistryServer, "
          "npmScopes, npmRegistries."),
    _rule("NPM035", "yarn-ident-malformed", E, "token-malformed",
          "`npmAuthIdent` is neither `user:password` nor its base64.",
          "Decodes npmAuthIdent values.",
          "Yarn sends it as a Basic credential; without the `user:` part the registry answers 401.",
          "npmAuthIdent: npm_abc123   (a token: use npmAuthToken)",
          "Use `npmAuthToken` for tokens, `npmAuthIdent: user:password` for Basic auth."),
    _rule("NPM036", "yarn-ignores-npmrc", E, "credential-not-matched",
          "Yarn Berry is used here, and only .npmrc has the credential.",
          "For each registry, compares what npm would send with what Yarn Berry would send.",
          "Yarn 2+ never reads .npmrc: the token there is not sent and `yarn install` gets 401 "
          "(`YN0041: Invalid authentication`).",
          "~/.npmrc has //registry/:_authToken=..., .yarnrc.yml has nothing",
          "Add the token to .yarnrc.yml: `npmRegistries: {\"//host/path\": {npmAuthToken: "
          "\"${NPM_TOKEN}\"}}` (or npmScopes for a scope)."),
    # -- probes -------------------------------------------------------------------------
    _rule("NPM101", "registry-rejected-token", E, "token-invalid",
          "The registry refuses the credential the client sends (401).",
          "Fetches the package document (or the registry root) with exactly the Authorization "
          "header npm would send and reports a 401.",
          "`npm error code E401` / `Incorrect or missing password`: the token is wrong, revoked, "
          "expired, for another account, or a literal `${VAR}`.",
          "GET https://pkg.harness.io/pkg/acct/reg/npm/lodash -> 401",
          "Create a new token and store it where npm reads it."),
    _rule("NPM102", "registry-requires-auth", E, "no-credentials",
          "The registry answers 401 and the client sends no credential.",
          "Fetches the package document without credentials, as npm would.",
          "npm fails with E401 (`Unable to authenticate, need: ...`) or E404 for private packages.",
          "GET https://npm.example.com/@acme%2flib -> 401, no _authToken for the registry",
          "Add an auth key for the registry URL."),
    _rule("NPM103", "registry-forbidden", E, "permission-denied",
          "The registry accepts the credential but refuses access (403).",
          "Reports 403 answers to the package request, telling policy blocks apart.",
          "npm fails with E403: the principal lacks read permission on the registry (pipelines "
          "triggered by webhooks or schedules run as a service principal), or a policy "
          "(quarantine, firewall) blocks the package.",
          "GET .../npm/left-pad -> 403 {\"message\":\"Forbidden\"}",
          "Grant read permission to the token's principal, or ask for the package to be released."),
    _rule("NPM104", "package-not-found", E, "not-found",
          "The package (or the registry path) does not exist, although the request was answered.",
          "Reports 404 answers to the package request.",
          "npm fails with E404; with HAR a wrong account or registry in the URL gives 404 too.",
          "GET .../npm/@acme%2fmissing -> 404",
          "Check the package name and the registry URL."),
    _rule("NPM105", "whoami-anonymous", E, "token-invalid",
          "The registry answers `/-/whoami` without a user although a token was sent.",
          "Asks `GET <registry>/-/whoami` with the token npm would send.",
          "Registries such as verdaccio answer 200 `{}` to an unknown token instead of 401; "
          "`npm whoami` then says ENEEDAUTH and installs of private packages get 401.",
          "GET http://127.0.0.1:4873/-/whoami -> 200 {}",
          "Create a new token (`npm login --registry URL`) and store it."),
    _rule("NPM106", "npm-registry-rate-limited", W, "rate-limited",
          "The registry throttles the requests (429).",
          "Reports 429 answers.",
          "npm retries and then fails; anonymous requests have the lowest limits.",
          "GET https://registry.npmjs.org/lodash -> 429",
          "Send a credential, use a caching proxy, or wait."),
    _rule("NPM107", "npm-registry-server-error", W, "connection-error",
          "The registry answered with a server error (5xx).",
          "Reports 5xx answers to the package request.",
          "The failure is on the registry side, not the credential's.",
          "GET .../npm/lodash -> 503",
          "Retry later; check the registry's status page."),
)
