"""The npm plugin's rules: NPM0xx offline (npm/pnpm ``.npmrc``), NPM03x
Yarn Berry, NPM1xx from probing the registry."""

from __future__ import annotations

from hardoctor.model import Applicability, Severity
from hardoctor.rules import rule

#: Client ids and display names (``hardoctor_client_names``), here so that
#: naming the clients loads no diagnosis code.
CLIENT = {"npm": "npm", "pnpm": "pnpm", "yarn": "Yarn"}

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
SAFE, UNSAFE = Applicability.SAFE, Applicability.UNSAFE
#: What "safe" and "unsafe" mean for this plugin's fixes (the rule page says it).
SAFETY = {
    SAFE: "`hardoctor fix --apply` repairs it; the fix is safe (npm sends the same "
           "credential to the same registry afterwards, only now it matches).",
    UNSAFE: "`hardoctor fix --unsafe --apply` repairs it; the fix is unsafe because the "
             "client then needs something you must provide (an environment variable).",
}


RULES = (
    rule("NPM001", "unscoped-auth", E, "config-invalid",
         "An auth key (`_authToken`, `_auth`, `username`, `_password`) is not scoped to a registry.",
         what="Finds top-level `_authToken`, `_auth`, `username` and `_password` in every .npmrc layer.",
         why="npm 9 and later refuse to run at all: every command fails with `npm error code "
          "ERR_INVALID_AUTH` / ``_authToken` must be renamed to `//registry.example/:_authToken` "
          "in user config` / `Please run `npm config fix``. npm 8 sent it to the default "
          "registry only; pnpm still does. A `username` or `_password` alone is simply dropped.",
         example="_authToken=npm_abc123   (instead of //registry.npmjs.org/:_authToken=npm_abc123)",
         fix="Prefix the key with the default registry's nerf dart, as `npm config fix` does.",
         fixable=SAFE, safety=SAFETY[SAFE]),
    rule("NPM002", "always-auth", INFO, None,
         "`always-auth` is set; npm no longer has this option.",
         what="Finds `always-auth` and `//host/:always-auth` in .npmrc files.",
         why="Since npm 7.10 npm sends auth to every request under the registry key anyway; npm 9+ "
          "does not know the option (recent npm prints `Unknown user config \"always-auth\"` on "
          "every command). It never fixes a 401. Yarn 1 still reads it; Yarn Berry uses "
          "`npmAlwaysAuth` in .yarnrc.yml instead.",
         example="always-auth=true",
         fix="Delete the line (unless Yarn 1 reads this file).",
         fixable=SAFE, safety=SAFETY[SAFE]),
    rule("NPM003", "auth-key-host-case", E, "credential-not-matched",
         "An auth key's host has upper-case letters, so npm never matches it.",
         what="Compares the host of every `//host/path/:field` key with its lower-cased form.",
         why="npm lower-cases the request URL's host (WHATWG URL) and compares keys as exact "
          "strings: `//Registry.Example.com/` never matches, npm sends no token and the "
          "registry answers 401 (or 404 for a private package).",
         example="//Pkg.Harness.io/pkg/acct/reg/npm/:_authToken=...",
         fix="Lower-case the host in the key.",
         fixable=SAFE, safety=SAFETY[SAFE]),
    rule("NPM004", "auth-key-default-port", E, "credential-not-matched",
         "An auth key names the default port (`:443` for https, `:80` for http).",
         what="Finds keys whose host carries the scheme's default port while the registry URL does not.",
         why="URL parsing drops a default port from the request URL, so `//host:443/` is never "
          "equal to `//host/`: npm sends no token and gets 401.",
         example="registry=https://npm.example.com/  with  //npm.example.com:443/:_authToken=...",
         fix="Remove the port from the key.",
         fixable=SAFE, safety=SAFETY[SAFE]),
    rule("NPM005", "auth-key-path-mismatch", E, "credential-not-matched",
         "An auth key and the registry URL differ in path or in a trailing slash.",
         what="For every registry (default and `@scope:registry`), compares its nerf dart (the URL "
          "with the last path segment dropped unless it ends in `/`) with the auth keys on the "
          "same host, and walks the request path the way npm-registry-fetch does.",
         why="A key whose path is not a prefix of the request path never matches: npm sends no "
          "token and gets 401. A key that matches only by the path walk (`//host/npm:` without "
          "the slash, or a registry URL without its trailing slash) works for `npm install` but "
          "`npm whoami` and `npm publish` look up the exact nerf dart and say `This command "
          "requires you to be logged in` (ENEEDAUTH); pnpm needs the trailing slash too.",
         example="registry=https://pkg.harness.io/pkg/acct/reg/npm/\n"
          "  //pkg.harness.io/pkg/acct/npm/:_authToken=...   (registry name missing)",
         fix="Make the key's path equal the registry URL's nerf dart (and end the registry URL "
          "with `/`).",
         fixable=SAFE, safety=SAFETY[SAFE]),
    rule("NPM006", "env-unset", E, "env-unset",
         "A `${VAR}` in an .npmrc refers to a variable that is not set.",
         what="Expands `${VAR}` in keys and values exactly as npm does and reports variables that "
          "are not set in the environment hardoctor runs in (also the `${VAR:-default}` form, "
          "which npm does not support).",
         why="npm leaves an unset `${VAR}` in place and sends the literal text `${NPM_TOKEN}` as "
          "the token: the registry answers 401. `${VAR?}` would send nothing instead. pnpm "
          "supports `${VAR:-default}`, npm does not.",
         example="//registry.example/:_authToken=${NPM_TOKEN}   with NPM_TOKEN unset in CI",
         fix="Export the variable before running npm (in CI: map the secret into the job's "
          "environment)."),
    rule("NPM007", "password-not-base64", E, "token-malformed",
         "`_password` is not base64; npm decodes it anyway and sends garbage.",
         what="Checks that every `:_password` value is standard base64 (npm stores the password "
          "base64-encoded).",
         why="npm base64-decodes `_password` before building the Basic header; a plain password or "
          "token becomes different bytes and the registry answers 401.",
         example="//registry.example/:_password=pat.Acct.tok.secret   (not encoded)",
         fix="Store the base64 of the password: `printf '%s' \"$PASSWORD\" | base64`.",
         fixable=UNSAFE, safety=SAFETY[UNSAFE]),
    rule("NPM008", "npm-auth-not-user-pass", E, "token-malformed",
         "`_auth` is not the base64 of `user:password`.",
         what="Decodes every `:_auth` value and checks for `user:password`.",
         why="npm sends `_auth` verbatim as `Authorization: Basic ...`; a bare token or an "
          "unencoded `user:pass` is refused with 401.",
         example="//registry.example/:_auth=npm_abc123   (a token in the Basic slot)",
         fix="A token belongs in `:_authToken`; for Basic auth use "
          "`printf '%s' 'user:password' | base64`."),
    rule("NPM009", "scope-registry-without-auth", W, "no-credentials",
         "A `@scope:registry` has no auth key that npm would send to it.",
         what="Resolves each scoped registry's requests and finds no `_authToken`/`_auth`/"
          "`username`+`_password` on their path.",
         why="Private scoped registries (HAR, GitHub Packages, Artifactory) answer 401 or 404 for "
          "anonymous requests; the token for the default registry is not sent to them.",
         example="@acme:registry=https://pkg.harness.io/pkg/acct/reg/npm/   and no //pkg.harness.io/... key",
         fix="Add `//host/path/:_authToken=${NPM_TOKEN}` for that registry URL (`npm config set`)."),
    rule("NPM010", "token-in-project-npmrc", W, "insecure-storage",
         "A literal token is stored in a project .npmrc inside a git work tree.",
         what="Finds `_authToken`, `_auth` and `_password` values in the project .npmrc that are not "
          "`${VAR}` references, when the file is in a git work tree and not git-ignored.",
         why="Project .npmrc files get committed: the token leaks to everyone with read access to "
          "the repository (and to its forks and CI logs).",
         example="./.npmrc: //pkg.harness.io/pkg/acct/reg/npm/:_authToken=pat.acct.abc.def",
         fix="Replace the value with `${NPM_TOKEN}`, export NPM_TOKEN where npm runs, and revoke "
          "the committed token.",
         fixable=UNSAFE, safety=SAFETY[UNSAFE]),
    rule("NPM011", "npmrc-world-readable", W, "insecure-storage",
         "An .npmrc holding tokens can be read by other users.",
         what="Checks the mode of user and global .npmrc files that hold secrets.",
         why="npm writes ~/.npmrc with mode 600; a readable copy lets anyone on the machine take the token.",
         example="-rw-r--r--  ~/.npmrc  with //registry/:_authToken=...",
         fix="`chmod 600 ~/.npmrc`.",
         fixable=SAFE, safety=SAFETY[SAFE]),
    rule("NPM012", "credential-shadowed", W, "credential-shadowed",
         "A higher-priority npm config layer overrides a credential for the same registry.",
         what="Compares every layer's auth keys: project .npmrc over user ~/.npmrc over global, and "
          "`npm_config_*` variables over all files.",
         why="Someone updates the token in ~/.npmrc, but the project's .npmrc (or an environment "
          "variable) still holds an old one, and npm keeps sending that: 401 after the 'fix'.",
         example="./.npmrc:1 //registry/:_authToken=old   and   ~/.npmrc:1 //registry/:_authToken=new",
         fix="Remove the stale entry, or update it too."),
    rule("NPM013", "auth-key-not-matched", E, "credential-not-matched",
         "npm sends no credential to a registry although a key for its host exists.",
         what="Resolves the registry and lists keys on the same host that the path walk never reaches.",
         why="The credential is configured but keyed so npm never picks it: the registry gets an "
          "anonymous request and answers 401.",
         example="registry=https://npm.example.com/team/  with  //npm.example.com/other/:_authToken=...",
         fix="Key the credential under the registry URL's nerf dart (`npm config set "
          "//host/path/:_authToken ...`)."),
    rule("NPM014", "npm-no-credentials", W, "no-credentials",
         "npm sends no credential to a private registry.",
         what="Resolves the registry and finds no auth key for it at all.",
         why="A private registry answers 401 (`npm error code E401`, `Unable to authenticate, "
          "need: Basic/Bearer`) or 404 for private packages.",
         example="registry=https://pkg.harness.io/pkg/acct/reg/npm/   without a matching _authToken",
         fix="`npm config set //host/path/:_authToken \"$TOKEN\"` (or use `${NPM_TOKEN}` in the file)."),
    rule("NPM015", "npm-clients-disagree", W, "credential-shadowed",
         "npm, pnpm and Yarn would send different credentials to the same registry.",
         what="Resolves each client in use for the registry and compares what they send (by fingerprint).",
         why="One tool works while another gets 401 against the same registry; Yarn Berry never "
          "reads .npmrc, pnpm honours keys npm refuses.",
         example="npm uses ~/.npmrc; Yarn Berry has no npmAuthToken for the registry",
         fix="Configure the credential for every client you use (.yarnrc.yml for Yarn Berry)."),
    rule("NPM016", "auth-key-in-section", E, "config-invalid",
         "An auth key sits under an `[section]` header, where npm never looks.",
         what="Finds registry and auth keys that ini puts into a section object.",
         why="npm reads only top-level keys: everything after `[section]` is ignored, so the "
          "token is never sent.",
         example="[auth]\n  //registry/:_authToken=...",
         fix="Move the key above any `[section]` line (npm config files have no sections)."),
    rule("NPM017", "duplicate-key", W, "config-invalid",
         "The same key is set twice in one .npmrc; only the last one counts.",
         what="Finds repeated keys in one file.",
         why="Editing the first copy changes nothing; the last line wins silently.",
         example="//registry/:_authToken=new\n  //registry/:_authToken=old",
         fix="Delete the copy you do not want (identical copies are removed automatically).",
         fixable=SAFE, safety=SAFETY[SAFE]),
    rule("NPM018", "env-auth-ignored", W, "credential-not-matched",
         "An `npm_config_*` variable sets an unscoped auth key that npm ignores.",
         what="Finds `NPM_CONFIG__AUTHTOKEN`, `NPM_CONFIG__AUTH` and similar variables.",
         why="npm lower-cases variable names (`_authtoken`) and only honours auth scoped to a "
          "registry; the token in the variable is never sent.",
         example="NPM_CONFIG__AUTHTOKEN=npm_abc123 npm install",
         fix="Reference a variable from the .npmrc instead: `//registry/:_authToken=${NPM_TOKEN}`."),
    rule("NPM019", "line-without-equals", E, "config-invalid",
         "An auth or registry line has no `=`; npm reads it as a key set to `true`.",
         what="Finds lines that look like `key value` or `key: value`.",
         why="ini takes the whole line as the key with the value `true`: the intended key is unset "
          "and nothing is sent.",
         example="//registry/:_authToken npm_abc123",
         fix="Write `key=value`."),
    rule("NPM020", "workspace-npmrc-ignored", W, "credential-not-matched",
         "A workspace package has its own .npmrc, which npm ignores.",
         what="Finds `.npmrc` in a workspace member when npm uses the workspace root.",
         why="npm reads the project config at the workspace root only (it logs `ignoring workspace "
          "config at ...`); credentials in the member's file are never sent.",
         example="packages/app/.npmrc  in a repo whose package.json has \"workspaces\"",
         fix="Move the lines to the .npmrc at the workspace root."),
    rule("NPM021", "registry-not-url", E, "config-invalid",
         "A registry setting is not a URL npm can use.",
         what="Parses `registry` and `@scope:registry` values as Node's URL parser does.",
         why="npm drops an invalid `registry` (`invalid config registry=...`) and uses "
          "registry.npmjs.org instead; an invalid scoped registry makes installs fail with "
          "`Invalid URL`.",
         example="registry=pkg.harness.io/pkg/acct/reg/npm/   (no https://)",
         fix="Write the full URL with `https://` and a trailing `/`."),
    rule("NPM022", "har-npm-url-type", E, "wrong-url",
         "A vendor registry URL used as an npm registry is not an npm registry URL.",
         what="Asks the plugin of the registry's vendor (Harness Artifact Registry, ...) "
              "whether each `registry`/`@scope:registry` URL is an npm URL of its layout.",
         why="A vendor serves npm only under its npm path; a Maven or Python registry URL "
             "answers 404 for every package, and extra path after the npm part breaks "
             "package URLs.",
         example="registry=https://pkg.harness.io/pkg/acct/maven-reg/maven/",
         fix="Use the npm registry's URL as its vendor documents it (its set-up page)."),
    rule("NPM023", "registry-missing-trailing-slash", W, "credential-not-matched",
         "A registry URL with a path does not end in `/`.",
         what="Finds `registry`/`@scope:registry` URLs with a path and no trailing slash.",
         why="npm's nerf dart drops the last path segment of such a URL: `npm login` stores the "
          "token under the parent path, and `npm whoami`/`npm publish` look it up there.",
         example="registry=https://pkg.harness.io/pkg/acct/reg/npm",
         fix="Add the trailing slash.",
         fixable=SAFE, safety=SAFETY[SAFE]),
    # -- Yarn Berry ----------------------------------------------------------------
    rule("NPM024", "pnpm-ignores-project-env-auth", E, "credential-not-matched",
         "pnpm 12 ignores `${VAR}` registry credentials in the project's .npmrc.",
         what="For pnpm, drops auth settings (`:_authToken`, `:_auth`, `:_password`, ...) of the "
          "project's .npmrc whose value holds `${VAR}`, as pnpm 12 does, and reports the key "
          "when the registry then answers 401.",
         why="pnpm 12 treats the repository's .npmrc as untrusted for credentials: `Ignored "
          "project-level auth setting ... environment variables are not expanded in "
          "repository-controlled registry credentials`; the install fails with "
          "ERR_PNPM_FETCH_401 while `npm install` works.",
         example="./.npmrc: //registry.example.com/:_authToken=${NPM_TOKEN}",
         fix="Put the line in ~/.npmrc (or the CI job's user config), where pnpm expands "
          "`${VAR}`."),
    rule("NPM030", "yarnrc-invalid", E, "config-invalid",
         "A .yarnrc.yml is not valid YAML.",
         what="Parses every .yarnrc.yml Yarn reads.",
         why="Yarn aborts every command: `Parse error when loading .yarnrc.yml; please check it's "
          "proper Yaml`.",
         example="npmAuthToken ${NPM_TOKEN}   (missing colon)",
         fix="Fix the syntax at the reported line."),
    rule("NPM031", "yarn-env-unset", E, "env-unset",
         "A `${VAR}` in .yarnrc.yml refers to a variable that is not set.",
         what="Expands `${VAR}` as Yarn does.",
         why="Yarn aborts every command with `Environment variable not found (VAR)` (use "
          "`${VAR:-}` for an optional one).",
         example="npmAuthToken: ${NPM_TOKEN}   with NPM_TOKEN unset",
         fix="Export the variable, or write `${NPM_TOKEN:-}` when it is optional."),
    rule("NPM032", "yarn-always-auth-missing", E, "credential-not-matched",
         "Yarn has a token for an unscoped private registry but will not send it.",
         what="For the default registry of Yarn Berry, checks `npmAlwaysAuth` where the token is set.",
         why="Yarn Berry sends auth for unscoped packages only with `npmAlwaysAuth: true`; "
          "otherwise every unscoped package request is anonymous and gets 401.",
         example="npmRegistryServer: https://pkg.harness.io/pkg/acct/reg/npm\n  npmAuthToken: ${NPM_TOKEN}",
         fix="Add `npmAlwaysAuth: true` next to the token (`yarn config set npmAlwaysAuth true`)."),
    rule("NPM033", "yarn-registry-key-slash", W, "credential-not-matched",
         "An `npmRegistries` key ends in `/`.",
         what="Finds `npmRegistries` keys with a trailing slash.",
         why="Yarn looks the registry up without the trailing slash; Yarn versions that do not "
          "normalise keys never find an entry written with one.",
         example="npmRegistries:\n    \"https://npm.example.com/\":\n      npmAuthToken: ...",
         fix="Write the key exactly as the registry URL without the trailing slash."),
    rule("NPM034", "yarn-unknown-setting", E, "config-invalid",
         "A .yarnrc.yml has an npm setting Yarn does not know.",
         what="Finds registry/auth-looking settings that are not Yarn's (`_authToken`, "
          "`npmToken`, `registry`, `always-auth`, ...).",
         why="In a project file Yarn refuses to start (`Unrecognized or legacy configuration "
          "settings found`); in the home file it ignores the setting, so no token is sent.",
         example="npmToken: ${NPM_TOKEN}   (the setting is npmAuthToken)",
         fix="Use Yarn's names: npmAuthToken, npmAuthIdent, npmAlwaysAuth, npmRegistryServer, "
          "npmScopes, npmRegistries."),
    rule("NPM035", "yarn-ident-malformed", E, "token-malformed",
         "`npmAuthIdent` is neither `user:password` nor its base64.",
         what="Decodes npmAuthIdent values.",
         why="Yarn sends it as a Basic credential; without the `user:` part the registry answers 401.",
         example="npmAuthIdent: npm_abc123   (a token: use npmAuthToken)",
         fix="Use `npmAuthToken` for tokens, `npmAuthIdent: user:password` for Basic auth."),
    rule("NPM036", "yarn-ignores-npmrc", E, "credential-not-matched",
         "Yarn Berry is used here, and only .npmrc has the credential.",
         what="For each registry, compares what npm would send with what Yarn Berry would send.",
         why="Yarn 2+ never reads .npmrc: the token there is not sent and `yarn install` gets 401 "
          "(`YN0041: Invalid authentication`).",
         example="~/.npmrc has //registry/:_authToken=..., .yarnrc.yml has nothing",
         fix="Add the token to .yarnrc.yml: `npmRegistries: {\"//host/path\": {npmAuthToken: "
          "\"${NPM_TOKEN}\"}}` (or npmScopes for a scope)."),
    # -- probes -------------------------------------------------------------------------
    rule("NPM037", "token-in-project-yarnrc", W, "insecure-storage",
         "A literal token is stored in a .yarnrc.yml that git tracks.",
         what="Finds `npmAuthToken` and `npmAuthIdent` values (top level, `npmScopes`, "
          "`npmRegistries`) that are not `${VAR}` references, in every `.yarnrc.yml` git "
          "tracks in the repository.",
         why="Everyone with read access to the repository (and its forks and CI logs) gets the "
          "token; it stays in the history after the line is removed.",
         example='.yarnrc.yml: npmAuthToken: "pat.acct.abc.def"',
         fix='Write `npmAuthToken: "${NPM_TOKEN}"`, export NPM_TOKEN where Yarn runs, and '
          "revoke the committed token."),
    rule("NPM101", "registry-rejected-token", E, "token-invalid",
         "The registry refuses the credential the client sends (401).",
         what="Fetches the package document (or the registry root) with exactly the Authorization "
          "header npm would send and reports a 401.",
         why="`npm error code E401` / `Incorrect or missing password`: the token is wrong, revoked, "
          "expired, for another account, or a literal `${VAR}`.",
         example="GET https://pkg.harness.io/pkg/acct/reg/npm/lodash -> 401",
         fix="Create a new token and store it where npm reads it."),
    rule("NPM102", "registry-requires-auth", E, "no-credentials",
         "The registry answers 401 and the client sends no credential.",
         what="Fetches the package document without credentials, as npm would.",
         why="npm fails with E401 (`Unable to authenticate, need: ...`) or E404 for private packages.",
         example="GET https://npm.example.com/@acme%2flib -> 401, no _authToken for the registry",
         fix="Add an auth key for the registry URL."),
    rule("NPM103", "registry-forbidden", E, "permission-denied",
         "The registry accepts the credential but refuses access (403).",
         what="Reports 403 answers to the package request, telling policy blocks apart.",
         why="npm fails with E403: the principal lacks read permission on the registry (pipelines "
          "triggered by webhooks or schedules run as a service principal), or a policy "
          "(quarantine, firewall) blocks the package.",
         example="GET .../npm/left-pad -> 403 {\"message\":\"Forbidden\"}",
         fix="Grant read permission to the token's principal, or ask for the package to be released."),
    rule("NPM104", "package-not-found", E, "not-found",
         "The package (or the registry path) does not exist, although the request was answered.",
         what="Reports 404 answers to the package request.",
         why="npm fails with E404; on registries that host many accounts a wrong account or "
             "registry in the URL gives 404 too.",
         example="GET .../npm/@acme%2fmissing -> 404",
         fix="Check the package name and the registry URL."),
    rule("NPM105", "whoami-anonymous", E, "token-invalid",
         "The registry answers `/-/whoami` without a user although a token was sent.",
         what="Asks `GET <registry>/-/whoami` with the token npm would send.",
         why="Registries such as verdaccio answer 200 `{}` to an unknown token instead of 401; "
          "`npm whoami` then says ENEEDAUTH and installs of private packages get 401.",
         example="GET http://127.0.0.1:4873/-/whoami -> 200 {}",
         fix="Create a new token (`npm login --registry URL`) and store it."),
    rule("NPM106", "npm-registry-rate-limited", W, "rate-limited",
         "The registry throttles the requests (429).",
         what="Reports 429 answers.",
         why="npm retries and then fails; anonymous requests have the lowest limits.",
         example="GET https://registry.npmjs.org/lodash -> 429",
         fix="Send a credential, use a caching proxy, or wait."),
    rule("NPM107", "npm-registry-server-error", W, "connection-error",
         "The registry answered with a server error (5xx).",
         what="Reports 5xx answers to the package request.",
         why="The failure is on the registry side, not the credential's.",
         example="GET .../npm/lodash -> 503",
         fix="Retry later; check the registry's status page."),
)
