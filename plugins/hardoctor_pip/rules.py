"""The pip plugin's rules: PIP0xx offline (pip.conf, .netrc, requirements,
uv, Poetry), PIP1xx from probing the index."""

from __future__ import annotations

from hardoctor.model import Applicability, Severity
from hardoctor.rules import rule

#: Client ids and display names (``hardoctor_client_names``), here so that
#: naming the clients loads no diagnosis code.
CLIENT = {"pip": "pip", "uv": "uv", "poetry": "Poetry", "twine": "twine"}

#: The ecosystem name of every pip-family source and target.
ECO = "pip"
#: The option (dest) of ``--keyring``; here so that adding it imports no subprocess code.
KEYRING_OPTION = "pip_keyring"

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
SAFE, UNSAFE = Applicability.SAFE, Applicability.UNSAFE
#: What "safe" and "unsafe" mean for this plugin's fixes (the rule page says it).
SAFETY = {
    SAFE: "`hardoctor fix --apply` repairs it; the fix is safe (pip reads the same "
           "credential afterwards, or a stricter file mode).",
    UNSAFE: "`hardoctor fix --unsafe --apply` repairs it; the fix is unsafe because it "
             "changes which credential is sent or where it is stored.",
}


RULES = (
    rule("PIP001", "pip-conf-invalid", E, "config-invalid",
         "A pip configuration file does not parse.",
         what="Reads pip.conf exactly as pip does (configparser.RawConfigParser, strict): a line "
          "before the first [section], a duplicate section or option, a line that is neither "
          "`name = value` nor a comment.",
         why="pip refuses to start: every pip command (install, download, even `pip config list`) "
          "fails with `Configuration file could not be loaded`.",
         example="index-url = https://pkg.harness.io/...   <- no [global] line above it",
         fix="Put the options under `[global]`, remove the duplicate."),
    rule("PIP002", "inline-comment-in-value", E, "config-invalid",
         "A pip.conf value ends with what looks like a comment, but pip keeps it as part of the value.",
         what="Finds ` # ...` or ` ; ...` after a value: configparser only knows comments at the "
          "start of a line.",
         why="The URL pip uses ends in ` # company index`: an index URL with spaces, which "
          "pip cannot use -- `No matching distribution found` for everything.",
         example="index-url = https://pkg.harness.io/pkg/ACCT/py/python/simple  # HAR",
         fix="Move the comment to its own line.",
         fixable=SAFE, safety=SAFETY[SAFE]),
    rule("PIP003", "pip-config-file-missing", W, "config-invalid",
         "PIP_CONFIG_FILE names a file that does not exist.",
         what="Checks that `$PIP_CONFIG_FILE` (other than os.devnull) is an existing file.",
         why="pip silently skips it: the index and credentials it was meant to set are not used, "
          "so pip talks to PyPI (or another file's index) instead.",
         example="export PIP_CONFIG_FILE=~/.config/pip/pip.ini   (the file is pip.conf)",
         fix="Point PIP_CONFIG_FILE at the right file, or unset it."),
    rule("PIP004", "config-files-skipped", W, "credential-shadowed",
         "pip skips a configuration file that sets an index or credentials.",
         what="Follows pip's PIP_CONFIG_FILE rules: `os.devnull` disables every file; a "
          "PIP_CONFIG_FILE that exists disables the per-user files (~/.pip/pip.conf, "
          "~/.config/pip/pip.conf).",
         why="The settings in the skipped file have no effect; editing it changes nothing.",
         example="PIP_CONFIG_FILE=/etc/ci/pip.conf with the token in ~/.config/pip/pip.conf",
         fix="Move the settings into the file pip reads, or unset PIP_CONFIG_FILE."),
    rule("PIP005", "index-setting-overridden", INFO, None,
         "An index setting is overridden by one with higher precedence.",
         what="Compares every place that sets `index-url`/`extra-index-url`: [global] < [install] "
          "< PIP_* variables, and a later file over an earlier one.  It is a warning "
          "(credential-shadowed) when the overridden URL carries credentials and the winner "
          "does not.",
         why="Someone updates one file and nothing changes, because another place wins.",
         example="[install] index-url in /etc/pip.conf beats [global] index-url in ~/.config/pip/pip.conf",
         fix="Keep the index in one place; `pip config debug` lists them all."),
    rule("PIP006", "requirements-line-invalid", E, "config-invalid",
         "A requirements file line with index options cannot be parsed.",
         what="Splits option lines the way pip does (shlex) and reports unbalanced quotes or an "
          "option without its value.",
         why="`pip install -r` stops with an error before contacting any index.",
         example="--index-url \"https://host/simple",
         fix="Fix the quoting, or give the option its value."),
    rule("PIP010", "userinfo-not-encoded", E, "config-invalid",
         "Reserved characters in the user:password part of an index URL are not percent-encoded.",
         what="Looks at the userinfo as written: `@`, `/`, `?`, `#`, spaces and stray `%` must be "
          "written as %40, %2F, %3F, %23, %20 and %25.  A `/`, `?` or `#` (an error) ends the "
          "host part early; a raw `@` (a warning) happens to work in pip and uv, which split at "
          "the last `@`, but not in every tool that reads the same URL.",
         why="pip connects to a host named after part of the password, or fails to parse the URL.",
         example="https://dev@acme.io:pa/ss@pkg.harness.io/pkg/ACCT/py/python/simple",
         fix="Percent-encode the username and password: dev%40acme.io:pa%2Fss.",
         fixable=SAFE, safety=SAFETY[SAFE]),
    rule("PIP011", "token-in-username", E, "token-malformed",
         "A Harness token sits in the username slot of an index URL.",
         what="Finds `https://TOKEN@pkg.harness.io/...` (and `TOKEN:e-mail@`): pip sends the "
          "token as the username with an empty (or wrong) password.",
         why="HAR reads only the password of Basic auth and ignores the username, so it answers 401 "
          "for a perfectly valid token.",
         example="index-url = https://pat.AcmeX1.tok.secret@pkg.harness.io/pkg/AcmeX1/py/python/simple",
         fix="Put the token in the password slot: `https://EMAIL:TOKEN@...` (e-mail `@` as %40).",
         fixable=UNSAFE, safety=SAFETY[UNSAFE]),
    rule("PIP012", "credentials-file-readable", W, "insecure-storage",
         "A file holding index credentials can be read by other users.",
         what="Checks the mode of pip.conf, uv.toml, Poetry's auth.toml and requirements files "
          "that hold a password in an index URL or an http-basic table.",
         why="Anyone on the machine can copy the token.",
         example="-rw-r--r--  ~/.config/pip/pip.conf  with https://user:TOKEN@host/simple",
         fix="`chmod 600 FILE`; better, keep the token in ~/.netrc (0600) or a keyring.",
         fixable=SAFE, safety=SAFETY[SAFE]),
    rule("PIP013", "credentials-in-committed-file", W, "insecure-storage",
         "An index URL with a password is in a file tracked by git.",
         what="For requirements files, pyproject.toml, uv.toml and pip.conf inside a git work "
          "tree, asks git whether the file is tracked (`git ls-files`); also every pip.conf and "
          "pip.ini that git tracks anywhere in the repository (pip does not read those, but the "
          "password is in the history).",
         why="Every clone, fork and CI log of the repository has the token; it must be revoked.",
         example="requirements.txt: --index-url https://dev%40acme.io:pat.Acme.x.y@pkg.harness.io/...",
         fix="Revoke the token; write `${HAR_USER}:${HAR_TOKEN}@` in requirements files (pip "
          "expands ${VAR}), or keep the credentials in ~/.netrc or a keyring.  The unsafe fix "
          "moves them into ~/.netrc.",
         fixable=UNSAFE, safety=SAFETY[UNSAFE]),
    rule("PIP014", "credentials-in-url", INFO, None,
         "An index URL carries a password in plain text.",
         what="Reports user:password@ in an index URL in a private, untracked file.",
         why="It works, but the token is copied wherever the URL goes (logs, `pip config list`, "
          "support tickets).",
         example="index-url = https://dev%40acme.io:TOKEN@pkg.harness.io/pkg/ACCT/py/python/simple",
         fix="Keep the URL bare and the credentials in ~/.netrc (`machine HOST login USER password "
          "TOKEN`, mode 0600) or a keyring (`keyring set URL USER`).",
         fixable=UNSAFE, safety=SAFETY[UNSAFE]),
    rule("PIP015", "requirements-env-unset", E, "env-unset",
         "A requirements file uses ${VAR} in an index URL and the variable is not set.",
         what="pip expands `${NAME}` (upper-case letters, digits, `_`) in requirements files; an "
          "unset or empty variable is left as the literal text.",
         why="pip sends `${HAR_TOKEN}` as the password: 401, shown as `No matching distribution "
          "found`.",
         example="--index-url https://${HAR_USER}:${HAR_TOKEN}@pkg.harness.io/pkg/ACCT/py/python/simple",
         fix="Export the variable before running pip (in CI: a secret variable)."),
    rule("PIP016", "requirements-env-not-expanded", E, "env-unset",
         "A requirements file uses `$VAR` or `${lower}`, which pip never expands.",
         what="pip expands only `${NAME}` with upper-case letters, digits and `_`.",
         why="The text is sent as it is written, and the index answers 401 or 404.",
         example="--index-url https://$HAR_USER:$HAR_TOKEN@pkg.harness.io/...",
         fix="Write `${HAR_USER}` / `${HAR_TOKEN}` (braces, upper case)."),
    rule("PIP020", "extra-index-dependency-confusion", W, "insecure-storage",
         "A private index is configured as an *extra* index next to PyPI.",
         what="Finds `extra-index-url` (pip), an extra index with index-strategy "
          "`unsafe-best-match` (uv) or a supplemental source while PyPI stays primary (Poetry) "
          "pointing at a private index.",
         why="pip picks the best version from *all* indexes: anyone can publish your private "
          "package name on PyPI with a higher version and pip installs theirs (dependency "
          "confusion).",
         example="index-url = https://pypi.org/simple\n  extra-index-url = https://pkg.harness.io/pkg/ACCT/py/python/simple",
         fix="Use the private index as the only `index-url` and let it proxy PyPI (HAR: an "
          "upstream proxy on the Python registry); or pin private packages to their index "
          "(uv `[tool.uv.sources]` with `explicit = true`, Poetry `priority = \"explicit\"`), "
          "and use `--require-hashes`."),
    rule("PIP021", "http-index-ignored", E, "wrong-url",
         "An index on plain http (not loopback, not a trusted host) is ignored by pip.",
         what="Finds http:// index URLs whose host is not listed in `trusted-host`.",
         why="pip skips it with `is not a trusted or secure host and is being ignored`: "
          "`No matching distribution found`.",
         example="index-url = http://pypi.corp.example/simple",
         fix="Use https://; only for a registry without TLS, add `trusted-host = HOST`."),
    rule("PIP022", "http-index-cleartext", W, "insecure-storage",
         "Credentials go to an index over plain http.",
         what="Finds http:// index URLs (not loopback) that pip will send a password to.",
         why="Anyone on the network path can read the token (Basic auth is only base64).",
         example="index-url = http://user:TOKEN@pypi.corp.example/simple  with trusted-host",
         fix="Use https://."),
    rule("PIP023", "har-index-missing-simple", E, "wrong-url",
         "A vendor's Python index URL lacks the /simple suffix.",
         what="Asks the plugin of the registry's vendor (Harness Artifact Registry, ...) "
              "whether an index URL needs /simple appended.",
         why="pip asks for <index>/<project>/; such registries serve the simple API under "
             ".../simple/, so every project is 404 and pip says `No matching distribution "
             "found`.",
         example="index-url = https://pkg.harness.io/pkg/AcmeX1/py-prod/python",
         fix="Append /simple: https://pkg.harness.io/pkg/AcmeX1/py-prod/python/simple.",
         fixable=SAFE, safety=SAFETY[SAFE]),
    rule("PIP030", "netrc-permissions", W, "insecure-storage",
         "~/.netrc is readable (or writable) by other users.",
         what="Checks that the netrc file has no group or other permission bits.",
         why="Anyone on the machine can read every password in it; curl and ftp refuse such a file.",
         example="-rw-r--r--  ~/.netrc",
         fix="`chmod 600 ~/.netrc`.",
         fixable=SAFE, safety=SAFETY[SAFE]),
    rule("PIP031", "netrc-default-entry", W, "insecure-storage",
         "~/.netrc has a `default` entry.",
         what="Finds `default login ... password ...`.",
         why="requests (pip, Poetry) send the default credentials to every host without a "
          "machine entry -- PyPI, files.pythonhosted.org, any index or redirect target.",
         example="default login dev@acme.io password pat.AcmeX1...",
         fix="Replace it with `machine HOST` entries for the hosts that need them."),
    rule("PIP037", "netrc-committed", W, "insecure-storage",
         "A netrc file with a password is committed to git.",
         what="Finds every `.netrc`/`_netrc` that git tracks in the repository and reports each "
          "entry that holds a password.",
         why="Every clone, fork and CI checkout has the passwords, and they stay in the history "
          "after the file is deleted.",
         example="tools/ci/.netrc: machine pkg.harness.io login bot password pat.AcmeX1...",
         fix="Revoke the passwords, `git rm --cached` the file, ignore it, and keep ~/.netrc "
          "(0600) outside the repository."),
    rule("PIP032", "netrc-invalid", E, "config-invalid",
         "~/.netrc does not parse the way Python's netrc module parses it.",
         what="Parses the file with the same tokenizer and grammar as Python's `netrc` (what "
          "requests uses) and reports the first error with its line.",
         why="requests swallows the error and uses no netrc entry at all: pip and Poetry send no "
          "credentials and get 401 (uv, curl may still work, which hides the problem).",
         example="machine pkg.harness.io login dev@acme.io pass TOKEN   <- `pass` is not a keyword",
         fix="Use only machine/default/login/account/password/macdef; `#` comments need a space "
          "after the `#`."),
    rule("PIP033", "netrc-machine-not-matched", E, "credential-not-matched",
         "A netrc machine name can never match what pip looks up.",
         what="requests looks up the host exactly as written in the URL, without the port and "
          "case-sensitively: `machine host:8443` or `machine PKG.harness.io` never match.",
         why="The entry is never used; pip sends no credentials and gets 401.",
         example="machine 127.0.0.1:8080 login ...   (pip looks up 127.0.0.1)",
         fix="Write the bare host name, as it appears in the index URL.",
         fixable=SAFE, safety=SAFETY[SAFE]),
    rule("PIP034", "netrc-duplicate-machine", W, "credential-shadowed",
         "The same machine appears twice in ~/.netrc.",
         what="Finds repeated machine names.",
         why="Python's netrc (pip, Poetry) uses the *last* entry, curl and uv the *first*: the "
          "tools disagree, and updating one copy may change nothing.",
         example="machine pkg.harness.io ... (old token) ... machine pkg.harness.io ... (new token)",
         fix="Keep one entry per host."),
    rule("PIP035", "username-defeats-netrc", E, "credential-not-matched",
         "An index URL has a username but no password, so the .netrc entry is never used.",
         what="pip before 25.2 (requests < 2.32.4) looks up `user@host` in .netrc for such a URL "
          "(it strips only the port), which matches no machine entry; pip 25.2+ looks up the "
          "host name.  hardoctor reads the installed pip's version (an error when it is older, "
          "a warning when it cannot tell).",
         why="pip sends the username with an empty password and gets 401 (pypiserver: 403), "
          "although ~/.netrc has the right password -- and a newer pip on a colleague's machine "
          "works with the same files.",
         example="index-url = https://dev%40acme.io@pkg.harness.io/...  +  machine pkg.harness.io ...",
         fix="Remove `user@` from the URL: the netrc entry supplies username and password.",
         fixable=UNSAFE, safety=SAFETY[UNSAFE]),
    rule("PIP036", "netrc-env-missing", W, "config-invalid",
         "NETRC names a file that does not exist.",
         what="Checks `$NETRC`.",
         why="requests reads only $NETRC when it is set: ~/.netrc is ignored and no netrc "
          "credentials are sent.",
         example="export NETRC=~/.netrc-work   (file missing)",
         fix="Point NETRC at the right file, or unset it."),
    rule("PIP038", "netrc-machine-alias", E, "credential-not-matched",
         "A netrc entry names the index's machine by another name (localhost / 127.0.0.1 / [::1]).",
         what="When the client sends nothing to an index, looks for a `machine` entry whose name "
              "is a loopback alias of the index URL's host (literal forms only, never DNS).",
         why="pip, uv and Poetry look the host up exactly as the index URL writes it: "
             "`machine localhost` is never used for `http://127.0.0.1:8080/simple`, no "
             "credentials are sent and the index answers 401.",
         example="machine localhost login dev password ...   (index-url = http://127.0.0.1:8080/simple)",
         fix="Name the entry as the index URL names the host (or add an entry for that name).",
         fixable=SAFE, safety="Safe when no other index here uses the old name: the entry is "
         "renamed to the name the client looks up, nothing else changes."),
    rule("PIP040", "keyring-not-consulted", INFO, None,
         "pip would need the keyring for this index, but will not ask it non-interactively.",
         what="When no URL or netrc credential exists for an index, explains when pip consults "
          "the keyring: only after a 401, only when it may prompt -- never with --no-input "
          "(PIP_NO_INPUT, CI) unless --keyring-provider import/subprocess is set.",
         why="Works on a laptop (keyring unlocked, prompting allowed), 401 in CI.",
         example="pip install --no-input ... with the token only in the system keyring",
         fix="In CI set `PIP_KEYRING_PROVIDER=subprocess` (and a username in the URL), or use "
          "~/.netrc / the URL."),
    rule("PIP050", "toml-invalid", E, "config-invalid",
         "A uv or Poetry TOML file does not parse.",
         what="Parses uv.toml, pyproject.toml and Poetry's config/auth files with tomllib.",
         why="uv and Poetry stop with a parse error, or (auth.toml) lose every stored credential.",
         example="[[tool.uv.index]]\n  url = \"https://...   <- unterminated string",
         fix="Correct the TOML at the reported line."),
    rule("PIP051", "uv-env-credentials-unmatched", W, "credential-not-matched",
         "UV_INDEX_<NAME>_USERNAME/PASSWORD are set, but no uv index has that name.",
         what="Maps every named uv index to its variable name (upper case, other characters `_`).",
         why="uv never uses the variables: it sends no credentials and gets 401.",
         example="UV_INDEX_HARPY_PASSWORD for [[tool.uv.index]] name = \"har-py\" (needs HAR_PY)",
         fix="Rename the variables (UV_INDEX_HAR_PY_PASSWORD) or name the index."),
    rule("PIP052", "uv-ignores-pip-config", W, "credential-not-matched",
         "pip is configured for a private index, but uv (also in use here) is not.",
         what="uv reads neither pip.conf nor PIP_* variables.",
         why="`pip install` works and `uv pip install` / `uv sync` go to PyPI: private packages "
          "are `not found`, or a public look-alike is installed.",
         example="~/.config/pip/pip.conf: index-url = https://pkg.harness.io/...  and no uv.toml",
         fix="Add the index to uv.toml / [tool.uv] (`[[index]] url = ... default = true`) or set "
          "UV_DEFAULT_INDEX."),
    rule("PIP053", "poetry-credentials-unmatched", W, "credential-not-matched",
         "Poetry credentials are stored for a source name no source uses.",
         what="Compares `http-basic.<name>` (auth.toml, poetry.toml, POETRY_HTTP_BASIC_<NAME>_*) "
          "with the `[[tool.poetry.source]]` names.",
         why="Poetry looks credentials up by source name: these are never sent, the source gets 401.",
         example="poetry config http-basic.har ... while the source is named har-py",
         fix="`poetry config http-basic.<source name> USER TOKEN`."),
    rule("PIP054", "pip-no-credentials", W, "no-credentials",
         "Nothing is configured that the client would send to this HAR index.",
         what="Follows the client's lookup (URL, netrc, keyring, ...) and finds nothing.",
         why="HAR answers 401 to anonymous requests; pip shows `No matching distribution found`.",
         example="index-url = https://pkg.harness.io/pkg/ACCT/py/python/simple   and no ~/.netrc",
         fix="Add `machine pkg.harness.io login EMAIL password TOKEN` to ~/.netrc (chmod 600)."),
    rule("PIP055", "index-env-unset", E, "env-unset",
         "The index is named, but its credential variables are not set.",
         what="A uv index or Poetry source that answered 401 while uv or Poetry sent nothing: "
          "checks UV_INDEX_<NAME>_USERNAME/_PASSWORD (uv) or "
          "POETRY_HTTP_BASIC_<NAME>_USERNAME/_PASSWORD (Poetry) and names a similar variable "
          "that is set instead.",
         why="uv and Poetry take a named index's credentials from these variables; a CI secret "
          "that was not passed leaves the request anonymous and the index answers 401.",
         example="[[tool.uv.index]] name = \"private\"  and UV_INDEX_PRIVATE_PASSWORD unset",
         fix="Export both variables where the client runs (names: upper case, other characters "
          "`_`)."),
    rule("PIP060", "twine-section-not-listed", E, "config-invalid",
         "A ~/.pypirc section twine cannot use: it is not in [distutils] index-servers.",
         what="Compares the sections of ~/.pypirc with `index-servers` (default `pypi "
          "testpypi`), as twine 7 does.",
         why="`twine upload -r NAME` stops with `InvalidConfiguration: Missing 'NAME' section "
          "from ~/.pypirc` even though the section is there.",
         example="[private]\nrepository = https://pypi.example.com/\n   (and no [distutils])",
         fix="List the section under [distutils] index-servers."),
    rule("PIP061", "twine-pypirc-ignored", E, "credential-not-matched",
         "TWINE_REPOSITORY_URL is set, so twine never reads the ~/.pypirc credentials.",
         what="With `--push`: a twine upload URL from TWINE_REPOSITORY_URL with no "
          "TWINE_USERNAME/TWINE_PASSWORD, while a ~/.pypirc section holds credentials for it.",
         why="twine builds the repository from the URL alone; non-interactive it stops with "
          "`Credential not found for username`.",
         example="TWINE_REPOSITORY_URL=https://pypi.example.com/  and [private] password = ...",
         fix="Unset TWINE_REPOSITORY_URL and use `-r NAME`, or set TWINE_USERNAME/PASSWORD."),
    rule("PIP110", "upload-needs-credentials", E, "no-credentials",
         "twine has no password for an upload URL that asks for one.",
         what="With `--push`: POSTs an upload without a file, the way twine starts one.",
         why="twine asks the keyring, then prompts; in CI it stops with `Credential not found`.",
         example="[private] without password, no TWINE_PASSWORD",
         fix="Set TWINE_PASSWORD (CI secret) or the section's password (~/.pypirc, mode 0600)."),
    rule("PIP111", "upload-credentials-refused", E, "token-invalid",
         "The upload URL refuses the credential twine sends.",
         what="With `--push`: the upload POST answered 401/403 with the credential.",
         why="`twine upload` fails with `HTTPError: 403 Forbidden`.",
         example="TWINE_PASSWORD holding an old token",
         fix="Store a valid token (and check the account may upload to this repository)."),
    rule("PIP112", "upload-url-wrong", E, "wrong-url",
         "The twine repository URL is not an upload endpoint.",
         what="With `--push`: the upload POST answered 404 or 405.",
         why="twine POSTs to the repository URL itself; an index URL (`/simple/`) is not one.",
         example="repository = https://pypi.example.com/simple/",
         fix="Use the server's upload (legacy API) URL."),
    # -- probe ------------------------------------------------------------------------
    rule("PIP101", "index-needs-credentials", E, "no-credentials",
         "The index answered 401 and the client has no credential to send.",
         what="GETs the index (or the project page) the way the client does, without credentials "
          "because none are configured.",
         why="pip shows `No matching distribution found` (the 401 is only visible with -v).",
         example="GET https://pkg.harness.io/pkg/ACCT/py/python/simple/requests/ -> 401",
         fix="Configure credentials (~/.netrc, keyring or the URL)."),
    rule("PIP102", "credentials-rejected", E, "token-invalid",
         "The index answered 401 to the credential the client sends.",
         what="Sends exactly the Basic credentials the client would.",
         why="The token is expired, revoked, mistyped, or in the wrong slot; pip reports `No "
          "matching distribution found`.",
         example="GET .../simple/requests/ with Basic dev@acme.io:<token> -> 401",
         fix="Create a new token and store it where the chain shows it comes from."),
    rule("PIP103", "index-forbidden", E, "permission-denied",
         "The index answered 403.",
         what="Sends the client's credentials; distinguishes HAR (403 = authenticated without "
          "permission) from servers such as pypiserver that answer 403 for a wrong password.",
         why="pip shows `No matching distribution found`.",
         example="GET .../simple/requests/ -> 403",
         fix="HAR: grant read on the registry to the token's principal.  pypiserver & co: check "
          "the password first."),
    rule("PIP104", "index-not-found", E, "wrong-url",
         "The index URL itself answers 404.",
         what="GETs the index root (and, for a project, both the project page and the root).",
         why="Every project is `not found`: the URL is wrong (path, registry name, /simple).",
         example="https://pkg.harness.io/pkg/AcmeX1/py-prod/pypi/simple/ -> 404",
         fix="Copy the index URL from the registry's set-up page.  When the HAR plugin knows the "
          "right path (/pypi/ -> /python/, org/project segments), the fix rewrites it.",
         fixable=SAFE, safety=SAFETY[SAFE]),
    rule("PIP105", "project-not-found", E, "not-found",
         "The index works but has no such project.",
         what="GETs <index>/<project>/ (PEP 503 normalised name) and the index root.",
         why="pip: `No matching distribution found for NAME`.",
         example="GET .../simple/internal-lib/ -> 404 while .../simple/ -> 200",
         fix="Check the project name, or whether it was uploaded to this registry."),
    rule("PIP106", "index-server-error", E, "connection-error",
         "The index answered with a server error or an unexpected status.",
         what="Reports 5xx and other non-auth failures of the index.",
         why="pip retries, then fails; nothing about the credential can be learned.",
         example="GET .../simple/ -> 502",
         fix="Retry later; ask the registry's operator."),
    rule("PIP107", "index-rate-limited", W, "rate-limited",
         "The index answered 429 Too Many Requests.",
         what="Reports throttling.",
         why="Often caused by falling back to anonymous requests.",
         example="GET .../simple/ -> 429",
         fix="Send credentials; wait and retry."),
    rule("PIP108", "project-blocked-by-policy", E, "blocked-by-policy",
         "The index refused the project by policy (quarantine, dependency firewall).",
         what="Reads the refusal message of a 403.",
         why="It is not an authentication problem: the package is blocked on purpose.",
         example="403 Artifact is blocked due to policy violations",
         fix="Ask the registry's owners to review the policy or use an allowed version."),
)
