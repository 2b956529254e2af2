"""The Maven/Gradle plugin's rules: offline (MVN0xx) and probe (MVN1xx)."""

from __future__ import annotations

from hardoctor.model import Applicability, Rule, Severity
from hardoctor.rules import rule_page

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
SAFE, UNSAFE = Applicability.SAFE, Applicability.UNSAFE


def _rule(code: str, name: str, sev: Severity, cause: str | None, summary: str,
          what: str, why: str, example: str, fix: str,
          fixable: Applicability | None = None) -> Rule:
    safety = {
        None: "No automatic fix.",
        SAFE: "`hardoctor fix --apply` repairs it; the fix is safe (Maven then sends the "
              "credential you already configured, and nothing else changes).",
        UNSAFE: "`hardoctor fix --unsafe --apply` adds it; unsafe because it changes what Maven "
                "sends (a credential read from an environment variable you must set).",
    }[fixable]
    explain = rule_page(what, why, example, fix, safety)
    return Rule(code, name, sev, summary, explain, cause, fixable, "maven")


RULES = (
    _rule("MVN001", "invalid-maven-xml", E, "config-invalid",
          "A Maven settings, settings-security or POM file is not XML Maven can read.",
          "Parses the file with a safe XML parser and reports the first error with its line. "
          "Files that declare XML entities (the 'billion laughs' attack) or external "
          "references are refused without expanding anything.",
          "Maven stops with `Non-parseable settings` / `Non-parseable POM` before contacting "
          "any repository; an unreadable settings-security.xml makes every encrypted password "
          "unusable.",
          "<server><id>har</id><password>tok</server>   <- <password> is never closed",
          "Correct the XML at the reported line (an unescaped `&` in a password must be "
          "written `&amp;`)."),
    _rule("MVN002", "no-server", W, "no-credentials",
          "Maven has no <server> for the id it authenticates this repository with.",
          "For every repository the build contacts, works out the id Maven looks credentials "
          "up by -- the mirror's id when a mirror matches, else the repository's -- and finds "
          "no <server> with that id in the user or global settings. It is an error when the "
          "registry asked for credentials (probe), a warning for Harness hosts offline, and "
          "info otherwise (many repositories are public).",
          "Maven requests anonymously and gets `status: 401 Unauthorized` -- the same message "
          "as for a wrong password, which is why this is hard to see.",
          "<mirror><id>har</id><mirrorOf>*</mirrorOf>...</mirror> and no <server><id>har</id>",
          "Add `<server><id>ID</id><username>...</username><password>...</password></server>` "
          "to ~/.m2/settings.xml with exactly the id named in the finding.", UNSAFE),
    _rule("MVN003", "server-id-behind-mirror", E, "credential-not-matched",
          "A <server> has the id of a repository that a mirror replaces; Maven looks up the "
          "mirror's id.",
          "Finds <server> entries whose id is a repository id that is mirrored, while no server "
          "has the mirror's id.",
          "When a mirror matches, Maven sends the request to the mirror and authenticates with "
          "the mirror's id; the server for the repository behind it is never used, so Maven "
          "gets 401. The classic Maven authentication mistake.",
          "<server><id>central</id>...</server> with <mirror><id>har</id><mirrorOf>*</mirrorOf>",
          "Rename the server id to the mirror's id.", SAFE),
    _rule("MVN004", "server-id-mismatch", E, "credential-not-matched",
          "A <server> exists but its id matches no repository or mirror Maven contacts, while "
          "a contacted one has no server.",
          "Compares the ids of the contacted repositories/mirrors without a server with the "
          "ids of servers nothing uses; a fix is offered when exactly one server and one "
          "id pair up.",
          "Server ids are matched exactly (case-sensitive): `Har` or `har-repo` is never used "
          "for `har`, and Maven answers 401 as if there were no password at all.",
          "<server><id>harness</id>...</server> but <repository><id>har</id>",
          "Rename the server id to the id Maven looks up.", SAFE),
    _rule("MVN005", "mirror-of-whitespace", E, "config-invalid",
          "A mirrorOf list has whitespace around a comma.",
          "Maven splits mirrorOf on commas without trimming the pieces; finds pieces with "
          "whitespace and the repositories that escape the mirror because of it.",
          "` central` never equals `central` and ` !snapshots` never excludes anything: "
          "requests go to the repository itself (or the wrong mirror) with the wrong server id.",
          "<mirrorOf>central, !har-snapshots</mirrorOf>",
          "Remove the whitespace: `central,!har-snapshots`.", SAFE),
    _rule("MVN006", "encrypted-without-master", E, "config-invalid",
          "A password is encrypted ({...}) but no readable master password exists.",
          "Looks for settings-security.xml (or -Dsettings.security) and its <master> for every "
          "server with an encrypted password.",
          "Maven cannot decrypt the password, logs that only with -X, and sends the encrypted "
          "text `{...}` as the password: 401.",
          "<password>{COQLCE6DU6GtcS5P=}</password> and no ~/.m2/settings-security.xml",
          "Restore settings-security.xml (`mvn --encrypt-master-password`, then re-encrypt the "
          "password with `mvn --encrypt-password`), or store the token unencrypted."),
    _rule("MVN007", "master-does-not-decrypt", E, "config-invalid",
          "The master password does not decrypt a server password (or cannot be decrypted "
          "itself).",
          "Decrypts the master (plexus-cipher, passphrase `settings.security`) and each "
          "server password with it, exactly as Maven 3 does.",
          "Maven sends the encrypted text as the password and gets 401: the password was "
          "encrypted with another master (a new settings-security.xml, another machine).",
          "settings-security.xml recreated after the passwords were encrypted",
          "Encrypt the token again with the current master: `mvn --encrypt-password`."),
    _rule("MVN008", "braces-in-plaintext-password", W, "token-malformed",
          "A plaintext password contains `{...}`, which Maven treats as an encrypted value.",
          "Finds passwords that Maven's decrypter recognises as encrypted but that are not "
          "(the text between the braces is not an encrypted payload).",
          "Maven tries to decrypt the value; when that fails it silently sends the text as "
          "written (logged only with -X), and when the braces happen to hold something that "
          "decrypts it sends garbage. Escaping with backslashes does not help for plaintext: "
          "Maven 3 then sends the backslashes too.",
          "<password>s3cr{et}x</password>",
          "Encrypt the password (`mvn --encrypt-password`), which removes the ambiguity, or "
          "use a token without braces."),
    _rule("MVN009", "encrypted-value-not-decrypted", E, "token-malformed",
          "An encrypted {...} value sits where Maven never decrypts (httpHeaders, username).",
          "Maven decrypts only server passwords, passphrases and proxy passwords; finds "
          "encrypted values in httpHeaders properties and usernames.",
          "The header or username is sent as the literal `{...}` text: the registry rejects it.",
          "<httpHeaders><property><name>Authorization</name><value>{enc}</value></property>",
          "Put the token in <password> (encrypted if you like) or use a plaintext/`${env.X}` "
          "value in the header."),
    _rule("MVN010", "plaintext-secret-committed", W, "insecure-storage",
          "A token or password is stored in plain text in a file tracked by git.",
          "Checks pom.xml, project settings files, gradle.properties and Gradle build scripts "
          "that `git ls-files` lists for password/token values and Harness tokens.",
          "Everyone with access to the repository (and its history, forever) has the token.",
          "gradle.properties:  harPassword=pat.AcctX1.tok.secret   (committed)",
          "Move the value to ~/.m2/settings.xml, ~/.gradle/gradle.properties or an environment "
          "variable (ORG_GRADLE_PROJECT_x / ${env.X}); revoke the exposed token."),
    _rule("MVN011", "gradle-credentials-missing", E, "no-credentials",
          "A Gradle repository's credentials refer to properties or variables that are not set.",
          "For `credentials(PasswordCredentials)` on a repository named X, looks for `XUsername` "
          "and `XPassword` in ORG_GRADLE_PROJECT_*, ~/.gradle/gradle.properties and the "
          "project's gradle.properties; for a `credentials { }` block, for the properties and "
          "environment variables it reads.",
          "Gradle fails with `The following Gradle properties are missing for 'X' credentials` "
          "or sends no credentials and gets 401.",
          "maven { name = \"har\"; credentials(PasswordCredentials) } and no harPassword",
          "Set the properties in ~/.gradle/gradle.properties (not the project's, which is "
          "committed) or as ORG_GRADLE_PROJECT_XUsername / ORG_GRADLE_PROJECT_XPassword."),
    _rule("MVN012", "settings-env-unset", E, "env-unset",
          "A ${env.X} in a Maven file refers to an environment variable that is not set.",
          "Interpolates settings and POM values the way Maven does and lists the variables "
          "that are missing.",
          "Maven leaves an unknown expression as it is: it sends the literal `${env.X}` as the "
          "password (401) or fails on the URL.",
          "<password>${env.HARNESS_TOKEN}</password> in a shell without HARNESS_TOKEN",
          "Export the variable (in CI: define it as a secret variable of the job)."),
    _rule("MVN013", "duplicate-server-id", W, "credential-shadowed",
          "The same server id appears more than once in one settings file.",
          "Finds repeated <server> ids in a settings file; Maven uses the last one.",
          "Updating the first copy has no effect; people paste a new token into the wrong one.",
          "two <server><id>har</id> blocks",
          "Delete the copy you do not want."),
    _rule("MVN014", "http-repository-blocked", E, "config-invalid",
          "A repository is blocked by a <blocked> mirror (Maven 3.8.1+ blocks external http).",
          "Applies mirror selection and finds repositories whose mirror is blocked -- usually "
          "maven-default-http-blocker for an http:// URL.",
          "Maven fails with `Blocked mirror for repositories` before sending any request.",
          "<repository><url>http://repo.example.com/maven</url>",
          "Use https, or add your own mirror for that repository id in ~/.m2/settings.xml."),
    _rule("MVN015", "maven4-encrypted-password", W, "config-invalid",
          "A password uses Maven 4's encryption format.",
          "Recognises `{[name=master,cipher=...,version=4.0]...}` values.",
          "Maven 3 cannot decrypt them and sends the text as written; hardoctor cannot read "
          "them either, so it cannot check the token.",
          "<password>{[name=master,cipher=AES/GCM/NoPadding,version=4.0]...}</password>",
          "With Maven 3 use `mvn --encrypt-password`; with Maven 4 check it with `mvn encrypt diag`."),
    _rule("MVN016", "settings-file-missing", E, "config-invalid",
          "-s / -gs in .mvn/maven.config names a settings file that does not exist.",
          "Reads .mvn/maven.config like Maven and checks the files it names.",
          "Maven stops with `The specified user settings file does not exist`.",
          "-s .mvn/settings.xml   (file not committed)",
          "Create the file or correct the path."),
    _rule("MVN017", "har-url-wrong-type", E, "wrong-url",
          "A Maven repository URL on Harness names another package type.",
          "Checks the type segment of HAR URLs (/pkg/ACCOUNT/REGISTRY/TYPE) used as Maven "
          "repositories or mirrors.",
          "HAR routes by the type segment: a Maven client at .../npm answers 404 or 401.",
          "<url>https://pkg.harness.io/pkg/AcctX1/libs/npm</url>",
          "Use the registry's Maven URL, .../pkg/ACCOUNT/REGISTRY/maven."),
    _rule("MVN018", "server-unused", INFO, None,
          "A <server> is not used by any repository or mirror this build contacts.",
          "Reports servers whose id matches nothing contacted (when no error explains it).",
          "Often harmless (servers for other projects); sometimes the reason a build gets 401.",
          "<server><id>old-nexus</id>",
          "Delete it if nothing uses it."),
    _rule("MVN019", "gradle-credentials-unreadable", INFO, None,
          "A Gradle credentials block computes its values in code hardoctor does not run.",
          "Reports credentials { } expressions that are not a literal, a property or an "
          "environment variable.",
          "hardoctor cannot tell which credential Gradle sends there.",
          "password = loadFromVault(\"har\")",
          "Prefer credentials(PasswordCredentials) with properties, which hardoctor can check."),
    _rule("MVN020", "settings-world-readable", W, "insecure-storage",
          "A settings file with plaintext passwords can be read by other users.",
          "Checks the mode of settings files holding unencrypted <password> values.",
          "Anyone on the machine can copy the token.",
          "-rw-r--r--  ~/.m2/settings.xml with <password>pat...</password>",
          "`chmod 600 ~/.m2/settings.xml`; consider `mvn --encrypt-password`.", SAFE),
    _rule("MVN021", "gradle-no-credentials", W, "no-credentials",
          "A Gradle repository declares no credentials.",
          "Finds `maven { }` repositories without a `credentials` block or "
          "`credentials(PasswordCredentials)`, for registries that need them (Harness hosts, "
          "or a 401 from the probe).",
          "Gradle requests anonymously and fails with `Received status code 401`.",
          "maven { url = uri(\"https://pkg.harness.io/pkg/AcctX1/libs/maven\") }",
          "Add `name = \"har\"` and `credentials(PasswordCredentials::class)` and define "
          "harUsername / harPassword in ~/.gradle/gradle.properties."),
    # -- probes ------------------------------------------------------------------
    _rule("MVN101", "repository-rejects-credential", E, "token-invalid",
          "The repository rejects the credential Maven sends (401).",
          "Requests a real path of the repository with the username and password Maven "
          "would send after the 401 challenge.",
          "Maven reports `authentication failed ... status: 401 Unauthorized`; the token is "
          "wrong, revoked or expired, or the username does not go with it.",
          "a Harness token that was revoked, a typo in <password>",
          "Create a new token and put it in the <password> of the named server."),
    _rule("MVN102", "repository-permission-denied", E, "permission-denied",
          "The repository accepts the credential but refuses access (403).",
          "Requests a real path with the credential Maven sends and gets 403.",
          "The principal has no read (or, for deploy, write) permission on the registry.",
          "a service account without the Artifact Registry read role",
          "Grant the permission, or use a token of a principal that has it."),
    _rule("MVN103", "needs-preemptive-auth", E, "no-credentials",
          "The repository answers without a 401 challenge, so Maven never sends the credential.",
          "Compares an anonymous request (what Maven sends first) with one carrying the "
          "credential: 404/403 without a challenge anonymously, success with it.",
          "Maven sends credentials only after a 401 with `WWW-Authenticate`; a server that "
          "hides private content behind 404 never gets them.",
          "a repository manager configured to answer 404 to anonymous requests",
          "Make Maven send the credential up front: in the <server>, "
          "`<configuration><httpConfiguration><all><usePreemptive>true</usePreemptive></all>"
          "</httpConfiguration></configuration>` (Maven 3.8), or "
          "`-Daether.connector.http.preemptiveAuth=true` (Maven 3.9+)."),
    _rule("MVN104", "artifact-not-found", E, "not-found",
          "The repository answers 404 for the artifact, with valid credentials.",
          "Requests maven-metadata.xml (and the POM when a version is given) for a `maven:G:A[:V]` "
          "target.",
          "Maven reports `Could not find artifact`: wrong repository URL, wrong registry, or the "
          "artifact is not there.",
          "hardoctor check maven:com.acme:lib:1.0",
          "Check the URL (account, registry, /maven) and the coordinates."),
    _rule("MVN105", "artifact-blocked-by-policy", E, "blocked-by-policy",
          "The repository refuses the artifact by policy (quarantine, dependency firewall).",
          "Reads 403 answers whose message names a policy.",
          "No credential change helps: the artifact itself is blocked.",
          "403 Artifact is quarantined",
          "Ask the registry's owner to release the artifact or to allow the version."),
    _rule("MVN106", "repository-rate-limited", W, "rate-limited",
          "The repository throttles requests (429).",
          "Reads 429 answers.",
          "Builds fail intermittently; anonymous requests are throttled hardest.",
          "429 Too Many Requests",
          "Authenticate (a <server> for the id) and retry later."),
    _rule("MVN107", "repository-server-error", INFO, None,
          "The repository answers with a server error (5xx).",
          "Reports 5xx answers to the probe.",
          "Not a credential problem; Maven fails or retries.",
          "502 Bad Gateway",
          "Retry later; tell the registry's operator."),
)
