"""An emulator of the cloud registries' documented authentication answers
(docs/vendors/aws-ecr.md, github.md, jfrog.md, azure-acr.md, gitlab.md,
docker-hub.md), for what cannot run here.

A threaded ``http.server`` on 127.0.0.1 speaking the OCI distribution API
with Basic authentication on every request, as ECR, Artifactory and the
ACR admin/token users do:

* ``GET /v2/`` without credentials: 401 with
  ``WWW-Authenticate: Basic realm="<realm>"`` (ECR's realm is the registry
  URL, its service ``ecr.amazonaws.com``);
* any request with ``Authorization: Basic``: the answer the vendor
  documents for that password (:meth:`VendorRegistry.answer`), in the
  vendor's body shape -- OCI ``{"errors":[{"code","message"}]}`` (ECR,
  GHCR, ACR, Docker Hub, GitLab) or Artifactory's
  ``{"errors":[{"status","message"}]}``;
* an accepted password: ``/v2/`` 200 and every manifest
  ``/v2/<name>/manifests/<ref>`` 200 with an OCI manifest.

Answers are per password so one emulator plays each vendor's failure.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from .util import LOOPBACK, ThreadedServer

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@dataclass(frozen=True)
class Reply:
    status: int
    message: str
    code: str = ""
    #: ``oci`` ({"errors":[{"code","message"}]}) or ``artifactory``
    #: ({"errors":[{"status","message"}]}).
    shape: str = "oci"


#: The vendors' documented answers (docs/vendors/*.md).
ECR_EXPIRED = Reply(403, "Your authorization token has expired. Reauthenticate and try again.",
                    "DENIED")
ECR_NO_PERMISSION = Reply(
    403, "User: arn:aws:sts::123456789012:assumed-role/dev/session is not authorized to "
    "perform: ecr:BatchGetImage on resource: arn:aws:ecr:eu-west-1:123456789012:repository/web "
    "because no identity-based policy allows the ecr:BatchGetImage action", "DENIED")
GHCR_NO_SCOPE = Reply(403, "permission_denied: The token provided does not match expected "
                      "scopes.", "DENIED")
JFROG_BAD_CREDENTIALS = Reply(401, "Bad credentials", shape="artifactory")
JFROG_FORBIDDEN = Reply(403, "Forbidden", shape="artifactory")
ACR_FIREWALL = Reply(403, "client with IP '203.0.113.9' is not allowed access. Refer "
                     "https://aka.ms/acr/firewall to grant access.", "DENIED")
GITLAB_DENIED = Reply(401, "HTTP Basic: Access denied. If a password was provided for Git "
                      "authentication, the password was incorrect or you're required to use a "
                      "token instead of a password.", "UNAUTHORIZED")


@dataclass
class VendorRegistry(ThreadedServer):
    thread_name = "vendor-registry"

    realm: str = "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/"
    service: str = "ecr.amazonaws.com"
    #: password -> the vendor's answer; a password not listed is refused
    #: with :attr:`unknown`; ``accepted`` passwords get 200.
    answers: dict[str, Reply] = field(default_factory=dict)
    accepted: set[str] = field(default_factory=set)
    unknown: Reply = field(default_factory=lambda: Reply(401, "Not Authorized", "UNAUTHORIZED"))
    port: int = 0
    requests: list[str] = field(default_factory=list)

    def answer(self, password: str, reply: Reply) -> None:
        self.answers[password] = reply

    @property
    def host(self) -> str:
        if not self.port:
            raise RuntimeError("VendorRegistry not started")
        return f"{LOOPBACK}:{self.port}"

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _handler(self)


def _password(header: str | None) -> str | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        text = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return text.split(":", 1)[1] if ":" in text else None


def _body(reply: Reply) -> bytes:
    if reply.shape == "artifactory":
        return json.dumps({"errors": [{"status": reply.status, "message": reply.message}]}).encode()
    return json.dumps({"errors": [{"code": reply.code, "message": reply.message,
                                   "detail": None}]}).encode()


def _handler(reg: VendorRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def _send(self, status: int, body: bytes, ctype: str = "application/json",
                  challenge: bool = False) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
            if challenge:
                self.send_header("WWW-Authenticate",
                                 f'Basic realm="{reg.realm}",service="{reg.service}"')
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            reg.requests.append(self.path)
            password = _password(self.headers.get("Authorization"))
            if password is None:
                self._send(401, _body(reg.unknown), challenge=True)
                return
            if password not in reg.accepted:
                reply = reg.answers.get(password, reg.unknown)
                self._send(reply.status, _body(reply), challenge=reply.status == 401)
                return
            if self.path.rstrip("/") == "/v2":
                self._send(200, b"{}")
            elif "/manifests/" in self.path:
                manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                       "digest": "sha256:" + "0" * 64, "size": 2},
                            "layers": []}
                self._send(200, json.dumps(manifest).encode(), OCI_MANIFEST)
            else:
                self._send(404, _body(Reply(404, "not found", "NAME_UNKNOWN")))

        do_HEAD = do_GET

    return Handler
