"""The Kubernetes plugin's rules (K8S0xx).

Expiry and account checks of the tokens inside pull secrets are the Harness
plugin's (HAR101/HAR102/HAR105, TOK0xx): every pull-secret entry is an
ordinary credential with ``stored_at`` from the Secret's creation or last
update.  What the registry answers is the OCI probe's (DKR1xx).
"""

from __future__ import annotations

from hardoctor.model import Applicability, Rule, Severity
from hardoctor.rules import rule

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
SAFE, UNSAFE = Applicability.SAFE, Applicability.UNSAFE


#: The manifest-editing fixes say what they change in the cluster.
_SAFETY: dict[Applicability | None, str] = {
    None: "No automatic fix.",
    SAFE: "`hardoctor fix --apply` edits the manifest in place (only that value changes); "
          "the fix is safe: the credential the secret was meant to hold becomes the one the "
          "kubelet reads.",
    UNSAFE: "`hardoctor fix --unsafe --apply` edits the manifest in place, and with `--kube` "
            "applies the corrected Secret with `kubectl apply`; the fix is unsafe because it "
            "changes which credential the kubelet sends.",
}


RULES: tuple[Rule, ...] = (
    rule("K8S001",
         "manifest-invalid",
         E,
         "config-invalid",
         "A manifest file (or stdin) is not valid YAML/JSON.",
         what="Parses every --manifests file and stdin as multi-document YAML (JSON included) and "
          "reports the line of the first syntax error. A Helm chart template (`{{ ... }}`) is "
          "reported as such: it is not YAML until rendered.",
         why="`kubectl apply` refuses the file, so the Secret or the workload in it never reaches "
          "the cluster and the pods keep pulling with whatever was there before.",
         example="data:\n    .dockerconfigjson: eyJhdXRocyI6\n   type: kubernetes.io/dockerconfigjson   "
          "<- bad indentation",
         fix="Correct the syntax at the reported line; render charts first: "
          "`helm template REL CHART | hardoctor check --manifests -`.",
         safety=_SAFETY[None]),
    rule("K8S002",
         "pull-secret-missing",
         E,
         "no-credentials",
         "A pod (or ServiceAccount) lists an image pull secret that does not exist in its "
          "namespace.",
         what="Looks up every `imagePullSecrets` name in the pod's own namespace, in the manifests "
          "and the cluster read; says so when a Secret of that name exists in another "
          "namespace.",
         why="imagePullSecrets are local references: the kubelet looks only in the pod's namespace. "
          "A missing secret gives the event `FailedToRetrieveImagePullSecret` and the image is "
          "pulled without credentials: `ErrImagePull`, `no basic auth credentials`.",
         example="Deployment shop/web lists `har-pull`, but the Secret was created in `default`.",
         fix="Create the Secret in the pod's namespace (`kubectl create secret docker-registry NAME "
          "-n NAMESPACE ...`), or fix the name in imagePullSecrets.",
         safety=_SAFETY[None]),
    rule("K8S003",
         "secret-type-key-mismatch",
         E,
         "config-invalid",
         "A pull secret's type and its data key do not belong together.",
         what="Checks that `kubernetes.io/dockerconfigjson` holds `.dockerconfigjson` and "
          "`kubernetes.io/dockercfg` holds `.dockercfg`.",
         why="The API server refuses such a Secret (a required key is missing), so `kubectl apply` "
          "fails; and the kubelet reads only the key that matches the type.",
         example="type: kubernetes.io/dockerconfigjson\ndata:\n  .dockercfg: eyJwa2cu...",
         fix="Rename the key to the one the type needs (when the value has the matching layout).",
         fixable=SAFE,
         safety=_SAFETY[SAFE]),
    rule("K8S004",
         "not-a-pull-secret-type",
         E,
         "credential-not-matched",
         "A Secret listed in imagePullSecrets is not of a docker-registry type.",
         what="Checks the type of every Secret a pod lists as an image pull secret.",
         why="The kubelet reads only `kubernetes.io/dockerconfigjson` and `kubernetes.io/dockercfg` "
          "secrets; an `Opaque` one (the default when `type:` is left out) is silently ignored, "
          "even when it holds a perfect `.dockerconfigjson`.",
         example="kind: Secret\nmetadata: {name: har-pull}\ndata:\n  .dockerconfigjson: ...   <- no type",
         fix="Set `type: kubernetes.io/dockerconfigjson` (the key decides which). The type of an "
          "existing Secret cannot change: delete and re-create it in the cluster.",
         fixable=SAFE,
         safety=_SAFETY[SAFE]),
    rule("K8S005",
         "auths-wrapper-mismatch",
         E,
         "config-invalid",
         "`.dockerconfigjson` lacks the `auths` wrapper, or `.dockercfg` has one.",
         what="Decodes the value and checks its layout: `.dockerconfigjson` is "
          "`{\"auths\": {REGISTRY: {...}}}`, `.dockercfg` the flat `{REGISTRY: {...}}`.",
         why="The API server only checks that the value is JSON, so the Secret is accepted; the "
          "kubelet then finds no credentials in it and pulls anonymously (401).",
         example="{\"pkg.harness.io\": {\"auth\": \"...\"}} stored as .dockerconfigjson",
         fix="Wrap (or unwrap) the registry map.",
         fixable=SAFE,
         safety=_SAFETY[SAFE]),
    rule("K8S006",
         "double-base64",
         E,
         "token-malformed",
         "A pull secret's value is base64-encoded one time too many.",
         what="Decodes the value as the API server does and checks whether the result is base64 of "
          "the JSON instead of the JSON (`base64 | base64` under data:, or base64 under "
          "stringData:, which takes raw text).",
         why="The kubelet gets base64 text where it expects JSON: the keyring fails and every image "
          "pull of every pod that lists the secret fails.",
         example="data:\n  .dockerconfigjson: ZXlKaGRYUm9jeUk2ZXlK...   <- base64 of base64",
         fix="Replace the value by the single-encoded one.",
         fixable=SAFE,
         safety=_SAFETY[SAFE]),
    rule("K8S007",
         "secret-value-invalid",
         E,
         "config-invalid",
         "A pull secret's value is not base64 (under data:) or not a JSON object.",
         what="Decodes `.dockerconfigjson`/`.dockercfg` strictly (standard padded base64 under "
          "data:) and parses the JSON with Go's rules: registry entries must be objects and "
          "`username`, `password`, `email`, `auth` strings.",
         why="The API server refuses a value that is not base64 or not JSON; one that decodes to "
          "the wrong JSON types makes the kubelet's keyring fail, and every pull of every pod "
          "listing the secret fails.",
         example="data:\n  .dockerconfigjson: '{\"auths\": ...}'   <- raw JSON under data:",
         fix="Base64-encode raw JSON under data: (done automatically), or move it to stringData:; "
          "re-create a broken value with `kubectl create secret docker-registry`.",
         fixable=SAFE,
         safety=_SAFETY[SAFE]),
    rule("K8S008",
         "auth-malformed",
         E,
         "token-malformed",
         "An `auth` value in a pull secret is not base64 of `username:password`.",
         what="Decodes every `auth` as the kubelet does (standard base64, split at the first ':').",
         why="The kubelet's keyring fails on it, and then *every* image pull of *every* pod that "
          "lists this secret fails -- images on other registries too.",
         example="\"auth\": \"cGF0LkFjbWUuYWJjLnh5eg==\"   <- base64 of the token alone, no 'user:'",
         fix="Re-create the secret: `kubectl create secret docker-registry NAME "
          "--docker-server=HOST --docker-username=USER --docker-password=\"$TOKEN\"`.",
         safety=_SAFETY[None]),
    rule("K8S009",
         "unsupported-in-pull-secret",
         E,
         "credential-not-matched",
         "A pull secret relies on `identitytoken`, `registrytoken` or credential helpers.",
         what="Looks for fields the kubelet does not read: `identitytoken`/`registrytoken` in an "
          "entry, `credsStore`/`credHelpers` at the top.",
         why="These come from copying a `~/.docker/config.json` into a secret. The kubelet reads "
          "only username/password/auth, so it sends the username with an empty password (or "
          "nothing) and gets 401.",
         example="kubectl create secret generic x --from-file=.dockerconfigjson=$HOME/.docker/config.json "
          "   <- after a `docker login` that stored an identity token",
         fix="Re-create the secret from the token itself: `kubectl create secret docker-registry`.",
         safety=_SAFETY[None]),
    rule("K8S010",
         "no-matching-pull-secret-entry",
         E,
         "credential-not-matched",
         "None of the pull secrets that apply to a pod has an entry for its image's registry.",
         what="Matches each container image against the entries of the pod's pull secrets by the "
          "kubelet's rules: scheme added, `/v1/` `/v2/` stripped, same port, same number of "
          "host labels, glob match per label (`*.x.io` does not match `x.io`), key path a prefix "
          "of the image path.",
         why="The kubelet pulls without credentials: `no basic auth credentials` or `pull access "
          "denied`. A key that differs only in port or path looks right and never matches.",
         example="Secret key `pkg.harness.io:443`, image `pkg.harness.io/acme/docker/web:1`.",
         fix="Key the entry by exactly the image's host (`--docker-server=HOST`).",
         safety=_SAFETY[None]),
    rule("K8S011",
         "pull-secret-token-stale",
         E,
         "token-expired",
         "A pull secret holds an expired (or rejected) token while this machine has a newer one.",
         what="Compares the token of each pull-secret entry with the Docker credentials on this "
          "machine for the same registry, by fingerprint: the pull secret was not updated when "
          "you logged in again.",
         why="The seed's last step -- \"update the imagePullSecret with the new credentials\" -- is "
          "the one everyone forgets: `docker pull` works on the laptop, the pods get 401.",
         example="Secret shop/har-pull #3fa2c1d8 (expired, estimated) vs ~/.docker/config.json "
          "pkg.harness.io #9b1e07aa.",
         fix="Put the working token into the Secret (the corrected manifest is shown).",
         fixable=UNSAFE,
         safety=_SAFETY[UNSAFE]),
    rule("K8S012",
         "pod-secrets-override-serviceaccount",
         W,
         "credential-shadowed",
         "A pod lists its own imagePullSecrets, so its ServiceAccount's are never used.",
         what="For pods (and pod templates) with their own `imagePullSecrets` whose ServiceAccount "
          "also has some, reports when the ServiceAccount's would serve the image and the pod's "
          "own do not, or when they differ.",
         why="The ServiceAccount's pull secrets are copied into a pod only when the pod lists none. "
          "Updating the ServiceAccount (a common fix) changes nothing for this pod.",
         example="ServiceAccount shop/builder has `har-pull-2026`; the Deployment still lists "
          "`har-pull`.",
         fix="Remove the pod's own list (to inherit the ServiceAccount's) or list the same secret.",
         safety=_SAFETY[None]),
    rule("K8S013",
         "pod-predates-serviceaccount-secrets",
         W,
         "credential-shadowed",
         "A running pod got its pull secrets from its ServiceAccount before they changed.",
         what="In a live cluster (or a dump), compares each pod's imagePullSecrets -- copied from "
          "the ServiceAccount when the pod was created -- with the ServiceAccount's current list, "
          "when the pod's template lists none.",
         why="ServiceAccount pull secrets reach only pods created afterwards; restarting a container "
          "keeps the old list, and a re-pull (new node, evicted image) fails.",
         example="Pod shop/web-7d9f-abcde has `har-pull`; ServiceAccount shop/default now has "
          "`har-pull-2026`.",
         fix="Recreate the pods: `kubectl rollout restart deployment/NAME -n NAMESPACE`.",
         safety=_SAFETY[None]),
    rule("K8S014",
         "stringdata-overrides-data",
         W,
         "credential-shadowed",
         "A Secret sets the same key in data and stringData.",
         what="Checks every pull secret for a key present in both sections.",
         why="The API server keeps stringData's value; an updated token pasted under data: is "
          "silently dropped.",
         example="data:\n  .dockerconfigjson: <new>\nstringData:\n  .dockerconfigjson: <old>",
         fix="Keep the key in one section only.",
         safety=_SAFETY[None]),
    rule("K8S015",
         "cluster-unreadable",
         E,
         "connection-error",
         "`--kube` was given but kubectl could not read the cluster.",
         what="Runs `kubectl get secrets,serviceaccounts,pods,deployments,... -o json` (with the "
          "kubeconfig, context and namespace options, under a timeout) and reports a missing "
          "kubectl, an unreachable API server, refused credentials, RBAC that forbids listing "
          "secrets, or a timeout -- each with its own cause.",
         why="Without the cluster's objects hardoctor cannot say which pull secrets the pods use.",
         example="secrets is forbidden: User \"dev\" cannot list resource \"secrets\"",
         fix="Fix what kubectl says (`kubectl get secrets -n NAMESPACE` shows the same error); "
          "listing secrets needs the `list` verb on `secrets`.",
         safety=_SAFETY[None]),
    rule("K8S016",
         "pull-secret-committed",
         W,
         "insecure-storage",
         "A Secret holding registry credentials is committed to git.",
         what="Reports every Secret with a `.dockerconfigjson` or `.dockercfg` value in a manifest "
          "git tracks.  With `--scope project` (the pre-commit hook) every tracked YAML file that "
          "holds such a Secret is read, without `--manifests`.  Files encrypted in place (SOPS) "
          "are left alone.",
         why="Everyone who can read the repository (and its forks and CI logs) can pull as this "
          "account; base64 is not encryption, and the token stays in the history.",
         example="deploy/regcred.yaml: type: kubernetes.io/dockerconfigjson, "
          "data: {.dockerconfigjson: eyJhdXRocyI6...}",
         fix="Revoke the token, `git rm --cached` the file, and create the Secret from a CI "
          "secret (`kubectl create secret docker-registry`) or an encrypted form (Sealed "
          "Secrets, SOPS, External Secrets).",
         safety=_SAFETY[None]),
)
