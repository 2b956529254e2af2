"""The Maven/Gradle plugin's rules: offline (MVN0xx) and probe (MVN1xx)."""

from __future__ import annotations

from hardoctor.model import Applicability, Severity
from hardoctor.rules import rule

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
SAFE, UNSAFE = Applicability.SAFE, Applicability.UNSAFE


#: The automatic fixes' safety sentence in Maven's words.
_SAFETY = {
    SAFE: "`hardoctor fix --apply` repairs it; the fix is safe (Maven then sends the "
             "credential you already configured, and nothing else changes).",
    UNSAFE: "`hardoctor fix --unsafe --apply` adds it; unsafe because it changes what Maven "
            "sends (a credential read from an environment variable you must set).",
}


RULES = (
    rule("MVN001", "invalid-maven-xml", E, "config-invalid",
         "A Maven settings, settings-security or POM file is not XML Maven can read.",
         what="Parses the file with a safe XML parser and reports the first error with its line. "
             "Files that declare XML entities (the 'billion laughs' attack) or external "
             "references are refused without expanding anything.",
         why="Maven stops with `Non-parseable settings` / `Non-parseable POM` before contacting "
             "any repository; an unreadable settings-security.xml makes every encrypted password "
             "unusable.",
         example="<server><id>har</id><password>tok</server>   <- <password> is never closed",
         fix="Correct the XML at the reported line (an unescaped `&` in a password must be "
             "written `&amp;`)."),
    rule("MVN002", "no-server", W, "no-credentials",
         "Maven has no <server> for the id it authenticates this repository with.",
         what="For every repository the build contacts, works out the id Maven looks credentials "
             "up by -- the mirror's id when a mirror matches, else the repository's -- and finds "
             "no <server> with that id in the user or global settings. It is an error when the "
             "registry asked for credentials (probe), a warning offline for a registry a vendor plugin owns (those are private), and "
             "info otherwise (many repositories are public).",
         why="Maven requests anonymously and gets `status: 401 Unauthorized` -- the same message "
             "as for a wrong password, which is why this is hard to see.",
         example="<mirror><id>har</id><mirrorOf>*</mirrorOf>...</mirror> and no <server><id>har</id>",
         fix="Add `<server><id>ID</id><username>...</username><password>...</password></server>` "
             "to ~/.m2/settings.xml with exactly the id named in the finding.",
         fixable=UNSAFE, safety=_SAFETY[UNSAFE]),
    rule("MVN003", "server-id-behind-mirror", E, "credential-not-matched",
         "A <server> has the id of a repository that a mirror replaces; Maven looks up the "
         "mirror's id.",
         what="Finds <server> entries whose id is a repository id that is mirrored, while no server "
             "has the mirror's id.",
         why="When a mirror matches, Maven sends the request to the mirror and authenticates with "
             "the mirror's id; the server for the repository behind it is never used, so Maven "
             "gets 401. The classic Maven authentication mistake.",
         example="<server><id>central</id>...</server> with <mirror><id>har</id><mirrorOf>*</mirrorOf>",
         fix="Rename the server id to the mirror's id.",
         fixable=SAFE, safety=_SAFETY[SAFE]),
    rule("MVN004", "server-id-mismatch", E, "credential-not-matched",
         "A <server> exists but its id matches no repository or mirror Maven contacts, while "
         "a contacted one has no server.",
         what="Compares the ids of the contacted repositories/mirrors without a server with the "
             "ids of servers nothing uses; a fix is offered when exactly one server and one "
             "id pair up.",
         why="Server ids are matched exactly (case-sensitive): `Har` or `har-repo` is never used "
             "for `har`, and Maven answers 401 as if there were no password at all.",
         example="<server><id>harness</id>...</server> but <repository><id>har</id>",
         fix="Rename the server id to the id Maven looks up.",
         fixable=SAFE, safety=_SAFETY[SAFE]),
    rule("MVN005", "mirror-of-whitespace", E, "config-invalid",
         "A mirrorOf list has whitespace around a comma.",
         what="Maven splits mirrorOf on commas without trimming the pieces; finds pieces with "
             "whitespace and the repositories that escape the mirror because of it.",
         why="` central` never equals `central` and ` !snapshots` never excludes anything: "
             "requests go to the repository itself (or the wrong mirror) with the wrong server id.",
         example="<mirrorOf>central, !har-snapshots</mirrorOf>",
         fix="Remove the whitespace: `central,!har-snapshots`.",
         fixable=SAFE, safety=_SAFETY[SAFE]),
    rule("MVN006", "encrypted-without-master", E, "config-invalid",
         "A password is encrypted ({...}) but no readable master password exists.",
         what="Looks for settings-security.xml (or -Dsettings.security) and its <master> for every "
             "server with an encrypted password.",
         why="Maven cannot decrypt the password, logs that only with -X, and sends the encrypted "
             "text `{...}` as the password: 401.",
         example="<password>{COQLCE6DU6GtcS5P=}</password> and no ~/.m2/settings-security.xml",
         fix="Restore settings-security.xml (`mvn --encrypt-master-password`, then re-encrypt the "
             "password with `mvn --encrypt-password`), or store the token unencrypted."),
    rule("MVN007", "master-does-not-decrypt", E, "config-invalid",
         "The master password does not decrypt a server password (or cannot be decrypted "
         "itself).",
         what="Decrypts the master (plexus-cipher, passphrase `settings.security`) and each "
             "server password with it, exactly as Maven 3 does.",
         why="Maven sends the encrypted text as the password and gets 401: the password was "
             "encrypted with another master (a new settings-security.xml, another machine).",
         example="settings-security.xml recreated after the passwords were encrypted",
         fix="Encrypt the token again with the current master: `mvn --encrypt-password`."),
    rule("MVN008", "braces-in-plaintext-password", W, "token-malformed",
         "A plaintext password contains `{...}`, which Maven treats as an encrypted value.",
         what="Finds passwords that Maven's decrypter recognises as encrypted but that are not "
             "(the text between the braces is not an encrypted payload).",
         why="Maven tries to decrypt the value; when that fails it silently sends the text as "
             "written (logged only with -X), and when the braces happen to hold something that "
             "decrypts it sends garbage. Escaping with backslashes does not help for plaintext: "
             "Maven 3 then sends the backslashes too.",
         example="<password>s3cr{et}x</password>",
         fix="Encrypt the password (`mvn --encrypt-password`), which removes the ambiguity, or "
             "use a token without braces."),
    rule("MVN009", "encrypted-value-not-decrypted", E, "token-malformed",
         "An encrypted {...} value sits where Maven never decrypts (httpHeaders, username).",
         what="Maven decrypts only server passwords, passphrases and proxy passwords; finds "
             "encrypted values in httpHeaders properties and usernames.",
         why="The header or username is sent as the literal `{...}` text: the registry rejects it.",
         example="<httpHeaders><property><name>Authorization</name><value>{enc}</value></property>",
         fix="Put the token in <password> (encrypted if you like) or use a plaintext/`${env.X}` "
             "value in the header."),
    rule("MVN010", "plaintext-secret-committed", W, "insecure-storage",
         "A token or password is stored in plain text in a file tracked by git.",
         what="Checks pom.xml, project settings files, gradle.properties and Gradle build scripts "
             "that `git ls-files` lists for password/token values and Harness tokens.",
         why="Everyone with access to the repository (and its history, forever) has the token.",
         example="gradle.properties:  harPassword=pat.AcctX1.tok.secret   (committed)",
         fix="Move the value to ~/.m2/settings.xml, ~/.gradle/gradle.properties or an environment "
             "variable (ORG_GRADLE_PROJECT_x / ${env.X}); revoke the exposed token."),
    rule("MVN011", "gradle-credentials-missing", E, "no-credentials",
         "A Gradle repository's credentials refer to properties or variables that are not set.",
         what="For `credentials(PasswordCredentials)` on a repository named X, looks for `XUsername` "
             "and `XPassword` in ORG_GRADLE_PROJECT_*, ~/.gradle/gradle.properties and the "
             "project's gradle.properties; for a `credentials { }` block, for the properties and "
             "environment variables it reads.",
         why="Gradle fails with `The following Gradle properties are missing for 'X' credentials` "
             "or sends no credentials and gets 401.",
         example="maven { name = \"har\"; credentials(PasswordCredentials) } and no harPassword",
         fix="Set the properties in ~/.gradle/gradle.properties (not the project's, which is "
             "committed) or as ORG_GRADLE_PROJECT_XUsername / ORG_GRADLE_PROJECT_XPassword."),
    rule("MVN012", "settings-env-unset", E, "env-unset",
         "A ${env.X} in a Maven file refers to an environment variable that is not set.",
         what="Interpolates settings and POM values the way Maven does and lists the variables "
             "that are missing.",
         why="Maven leaves an unknown expression as it is: it sends the literal `${env.X}` as the "
             "password (401) or fails on the URL.",
         example="<password>${env.HARNESS_TOKEN}</password> in a shell without HARNESS_TOKEN",
         fix="Export the variable (in CI: define it as a secret variable of the job)."),
    rule("MVN013", "duplicate-server-id", W, "credential-shadowed",
         "The same server id appears more than once in one settings file.",
         what="Finds repeated <server> ids in a settings file; Maven uses the last one.",
         why="Updating the first copy has no effect; people paste a new token into the wrong one.",
         example="two <server><id>har</id> blocks",
         fix="Delete the copy you do not want."),
    rule("MVN014", "http-repository-blocked", E, "config-invalid",
         "A repository is blocked by a <blocked> mirror (Maven 3.8.1+ blocks external http).",
         what="Applies mirror selection and finds repositories whose mirror is blocked -- usually "
             "maven-default-http-blocker for an http:// URL.",
         why="Maven fails with `Blocked mirror for repositories` before sending any request.",
         example="<repository><url>http://repo.example.com/maven</url>",
         fix="Use https, or add your own mirror for that repository id in ~/.m2/settings.xml."),
    rule("MVN015", "maven4-encrypted-password", W, "config-invalid",
         "A password uses Maven 4's encryption format.",
         what="Recognises `{[name=master,cipher=...,version=4.0]...}` values.",
         why="Maven 3 cannot decrypt them and sends the text as written; hardoctor cannot read "
             "them either, so it cannot check the token.",
         example="<password>{[name=master,cipher=AES/GCM/NoPadding,version=4.0]...}</password>",
         fix="With Maven 3 use `mvn --encrypt-password`; with Maven 4 check it with `mvn encrypt diag`."),
    rule("MVN016", "settings-file-missing", E, "config-invalid",
         "-s / -gs in .mvn/maven.config names a settings file that does not exist.",
         what="Reads .mvn/maven.config like Maven and checks the files it names.",
         why="Maven stops with `The specified user settings file does not exist`.",
         example="-s .mvn/settings.xml   (file not committed)",
         fix="Create the file or correct the path."),
    rule("MVN017", "har-url-wrong-type", E, "wrong-url",
         "A Maven repository URL on a vendor's registry names another package type.",
         what="Asks the vendor plugin that owns a repository or mirror URL what it means; reports "
             "it when the URL is the registry's route for another package type (a Harness "
             "Artifact Registry URL ending in /npm, say).",
         why="Such registries route by the package type in the URL: Maven requests to another type's "
             "route get 404 or 401.",
         example="<url>https://pkg.harness.io/pkg/AcctX1/libs/npm</url>",
         fix="Use the registry's Maven URL (the finding shows it when the vendor plugin knows it)."),
    rule("MVN018", "server-unused", INFO, None,
         "A <server> is not used by any repository or mirror this build contacts.",
         what="Reports servers whose id matches nothing contacted (when no error explains it).",
         why="Often harmless (servers for other projects); sometimes the reason a build gets 401.",
         example="<server><id>old-nexus</id>",
         fix="Delete it if nothing uses it."),
    rule("MVN019", "gradle-credentials-unreadable", INFO, None,
         "A Gradle credentials block computes its values in code hardoctor does not run.",
         what="Reports credentials { } expressions that are not a literal, a property or an "
             "environment variable.",
         why="hardoctor cannot tell which credential Gradle sends there.",
         example="password = loadFromVault(\"har\")",
         fix="Prefer credentials(PasswordCredentials) with properties, which hardoctor can check."),
    rule("MVN020", "settings-world-readable", W, "insecure-storage",
         "A settings file with plaintext passwords can be read by other users.",
         what="Checks the mode of settings files holding unencrypted <password> values.",
         why="Anyone on the machine can copy the token.",
         example="-rw-r--r--  ~/.m2/settings.xml with <password>pat...</password>",
         fix="`chmod 600 ~/.m2/settings.xml`; consider `mvn --encrypt-password`.",
         fixable=SAFE, safety=_SAFETY[SAFE]),
    rule("MVN021", "gradle-no-credentials", W, "no-credentials",
         "A Gradle repository declares no credentials.",
         what="Finds `maven { }` repositories without a `credentials` block or "
             "`credentials(PasswordCredentials)`, for registries that need them (a registry a "
             "vendor plugin owns, or a 401 from the probe).",
         why="Gradle requests anonymously and fails with `Received status code 401`.",
         example="maven { url = uri(\"https://pkg.harness.io/pkg/AcctX1/libs/maven\") }",
         fix="Add `name = \"har\"` and `credentials(PasswordCredentials::class)` and define "
             "harUsername / harPassword in ~/.gradle/gradle.properties."),
    # -- probes ------------------------------------------------------------------
    rule("MVN101", "repository-rejects-credential", E, "token-invalid",
         "The repository rejects the credential Maven sends (401).",
         what="Requests a real path of the repository with the username and password Maven "
             "would send after the 401 challenge.",
         why="Maven reports `authentication failed ... status: 401 Unauthorized`; the token is "
             "wrong, revoked or expired, or the username does not go with it.",
         example="a Harness token that was revoked, a typo in <password>",
         fix="Create a new token and put it in the <password> of the named server."),
    rule("MVN102", "repository-permission-denied", E, "permission-denied",
         "The repository accepts the credential but refuses access (403).",
         what="Requests a real path with the credential Maven sends and gets 403.",
         why="The principal has no read (or, for deploy, write) permission on the registry.",
         example="a service account without the Artifact Registry read role",
         fix="Grant the permission, or use a token of a principal that has it."),
    rule("MVN103", "needs-preemptive-auth", E, "no-credentials",
         "The repository answers without a 401 challenge, so Maven never sends the credential.",
         what="Compares an anonymous request (what Maven sends first) with one carrying the "
             "credential: 404/403 without a challenge anonymously, success with it.",
         why="Maven sends credentials only after a 401 with `WWW-Authenticate`; a server that "
             "hides private content behind 404 never gets them.",
         example="a repository manager configured to answer 404 to anonymous requests",
         fix="Make Maven send the credential up front: in the <server>, "
             "`<configuration><httpConfiguration><all><usePreemptive>true</usePreemptive></all>"
             "</httpConfiguration></configuration>` (Maven 3.8), or "
             "`-Daether.connector.http.preemptiveAuth=true` (Maven 3.9+)."),
    rule("MVN104", "artifact-not-found", E, "not-found",
         "The repository answers 404 for the artifact, with valid credentials.",
         what="Requests maven-metadata.xml (and the POM when a version is given) for a `maven:G:A[:V]` "
             "target.",
         why="Maven reports `Could not find artifact`: wrong repository URL, wrong registry, or the "
             "artifact is not there.",
         example="hardoctor check maven:com.acme:lib:1.0",
         fix="Check the URL (account, registry, /maven) and the coordinates."),
    rule("MVN105", "artifact-blocked-by-policy", E, "blocked-by-policy",
         "The repository refuses the artifact by policy (quarantine, dependency firewall).",
         what="Reads 403 answers whose message names a policy.",
         why="No credential change helps: the artifact itself is blocked.",
         example="403 Artifact is quarantined",
         fix="Ask the registry's owner to release the artifact or to allow the version."),
    rule("MVN106", "repository-rate-limited", W, "rate-limited",
         "The repository throttles requests (429).",
         what="Reads 429 answers.",
         why="Builds fail intermittently; anonymous requests are throttled hardest.",
         example="429 Too Many Requests",
         fix="Authenticate (a <server> for the id) and retry later."),
    rule("MVN107", "repository-server-error", INFO, None,
         "The repository answers with a server error (5xx).",
         what="Reports 5xx answers to the probe.",
         why="Not a credential problem; Maven fails or retries.",
         example="502 Bad Gateway",
         fix="Retry later; tell the registry's operator."),
    rule("MVN108", "repository-not-reached", INFO, None,
         "Maven gets the artifact from an earlier repository and never asks this one.",
         what="For `maven:G:A:V`, asks the repositories in maven-resolver's order (settings "
             "profiles, the POMs, the built-in central) and stops at the first that serves "
             "the artifact, as Maven does; a later repository is not contacted.",
         why="Nothing to fix: what this repository would answer does not matter for this "
             "artifact (a firewalled Maven Central is not a failure).",
         example="hardoctor check maven:com.acme:lib:1.0 (served by the POM's repository)",
         fix="Nothing; check the repository with a target it serves."),
)
