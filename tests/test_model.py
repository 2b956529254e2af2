"""The data model: a Secret never shows its value; fingerprints are stable;
redact.scrub replaces registered values and their base64 forms."""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import json
import logging
import pickle
import traceback

import pytest

from hardoctor import redact
from hardoctor.model import (
    Credential,
    Finding,
    Location,
    Resolution,
    Secret,
    Severity,
    Source,
    Target,
    TokenInfo,
    fingerprint,
)

VALUE = "pat.AcmeX1.tok3n1d.s3cretValueNeverShown"


@pytest.fixture
def secret() -> Secret:
    return Secret(VALUE)


def credential(secret: Secret) -> Credential:
    return Credential(
        id="docker:cfg:pkg.harness.io",
        ecosystem="docker",
        registry="pkg.harness.io",
        host="pkg.harness.io",
        source="docker:cfg",
        location=Location("/home/u/.docker/config.json", 4, 7, 'auths["pkg.harness.io"]'),
        username="dev@acme.io",
        secret=secret,
    )


# -- Secret never shows its value -------------------------------------------------------------


def _renderings(s: Secret) -> dict[str, str]:
    return {
        "repr": repr(s),
        "str": str(s),
        "format": format(s),
        "format-spec": format(s, ">80"),
        "format-s": format(s, "s"),
        "f-string": f"{s}",
        "f-string-r": f"{s!r}",
        "f-string-s": f"{s!s}",
        "f-string-a": f"{s!a}",
        "f-string-spec": f"{s:^60}",
        "percent-s": "%s" % s,  # noqa: UP031
        "percent-r": "%r" % s,  # noqa: UP031
        "percent-tuple": "%s %s" % (s, s),  # noqa: UP031
        "str.format": "{}".format(s),  # noqa: UP032
        "str.format-r": "{!r}".format(s),  # noqa: UP032
        "in-list": str([s]),
        "in-dict": str({"k": s}),
        "json-default-str": json.dumps({"k": s}, default=str),
        "exception": str(ValueError(s)),
        "exception-repr": repr(ValueError("x", s)),
    }


def test_secret_renderings_never_show_value(secret: Secret) -> None:
    for how, text in _renderings(secret).items():
        assert VALUE not in text, how
        assert VALUE[:12] not in text, how
    assert repr(secret) == f"Secret(#{fingerprint(VALUE)})"
    assert str(secret) == repr(secret)


def test_reveal_is_the_only_way(secret: Secret) -> None:
    assert secret.reveal() == VALUE
    assert bool(secret) and len(secret) == len(VALUE)
    assert not Secret("")
    with pytest.raises(AttributeError):
        secret._value = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        secret.anything = 1  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        vars(secret)  # __slots__: there is no __dict__ to dump


def test_json_dumps_refuses_secret(secret: Secret) -> None:
    with pytest.raises(TypeError):
        json.dumps({"password": secret})


def test_secret_cannot_be_pickled_or_copied_out(secret: Secret) -> None:
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError):
            pickle.dumps(secret, protocol=protocol)
    with pytest.raises(TypeError):
        pickle.dumps(credential(secret))
    with pytest.raises(TypeError):
        copy.deepcopy(secret)


def test_logging_never_shows_value(secret: Secret, caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("hardoctor.test")
    with caplog.at_level(logging.DEBUG, logger="hardoctor.test"):
        logger.warning("token %s and %r", secret, secret)
        logger.warning("cred %s", credential(secret))
    assert VALUE not in caplog.text
    assert fingerprint(VALUE) in caplog.text


def test_traceback_locals_never_show_value(secret: Secret) -> None:
    def fail(token: Secret) -> None:
        raise RuntimeError("failed")

    try:
        fail(secret)
    except RuntimeError as exc:
        text = "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
    assert "token = Secret(#" in text
    assert VALUE not in text


def test_dataclasses_never_show_value(secret: Secret) -> None:
    cred = credential(secret)
    info = TokenInfo(kind="harness-pat", fingerprint=secret.fingerprint, account_id="AcmeX1")
    cred = dataclasses.replace(cred, token=info)
    target = Target(raw="pkg.harness.io", kind="registry", host="pkg.harness.io")
    res = Resolution(target=target, ecosystem="docker", client="docker", credential=cred)
    finding = Finding(rule="HAR101", name="token-expired", severity=Severity.ERROR,
                      cause="token-expired", message="expired", credential=cred.id)
    for obj in (cred, res, finding, info):
        assert VALUE not in repr(obj)
        assert VALUE not in str(obj)
        assert VALUE not in f"{obj}"
        assert VALUE not in str(vars(obj))
    assert f"Secret(#{secret.fingerprint})" in repr(cred)
    # asdict deep-copies field values; for a Secret that must fail, not leak
    try:
        dumped = dataclasses.asdict(cred)
    except TypeError:
        pass
    else:  # pragma: no cover - only if Secret ever becomes copyable
        assert VALUE not in str(dumped)


def test_source_repr_hides_raw_text() -> None:
    src = Source(id="s", ecosystem="docker", kind="file", description="d", path="/p",
                 text='{"auths": {"x": {"auth": "' + VALUE + '"}}}', payload={"v": VALUE})
    assert VALUE not in repr(src)


def test_models_are_frozen(secret: Secret) -> None:
    cred = credential(secret)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cred.username = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cred.location.line = 9  # type: ignore[misc]


def test_secret_equality_and_hash_do_not_need_the_value(secret: Secret) -> None:
    same = Secret(VALUE)
    assert same == secret and hash(same) == hash(secret)
    assert Secret(VALUE + "x") != secret
    assert secret != VALUE  # never equal to the bare string
    assert len({secret, same}) == 1


# -- fingerprints -----------------------------------------------------------------------------


def test_fingerprint_is_stable_and_short() -> None:
    # a fixed value: the same token gives the same fingerprint on every machine
    assert fingerprint("hunter2") == hashlib.sha256(b"hunter2").hexdigest()[:8] == "f52fbd32"
    assert Secret("hunter2").fingerprint == "f52fbd32"
    assert fingerprint(VALUE) == fingerprint(VALUE)
    assert fingerprint(VALUE) != fingerprint(VALUE + "\n")
    fp = fingerprint(VALUE)
    assert len(fp) == 8 and all(c in "0123456789abcdef" for c in fp)


def test_fingerprint_matches_redact_mark() -> None:
    assert redact.mask(VALUE) == f"<secret #{fingerprint(VALUE)}>"
    assert redact.mask("") == "<empty>" and redact.mask(None) == "<empty>"


def test_fingerprint_handles_any_string() -> None:
    assert len(fingerprint("\udcff lone surrogate")) == 8
    assert len(fingerprint("")) == 8


# -- redact.scrub ------------------------------------------------------------------------------


def test_scrub_replaces_value_and_base64_forms() -> None:
    value = "scrub-me-s3cret?>>~"  # ends up with '+', '/' and '=' in base64
    s = Secret(value)
    raw = value.encode()
    forms = {
        "plain": value,
        "base64": base64.b64encode(raw).decode(),
        "base64-unpadded": base64.b64encode(raw).decode().rstrip("="),
        "urlsafe": base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }
    assert len(set(forms.values())) == 4  # the forms really differ
    for how, form in forms.items():
        text = f"before {form} after"
        out = redact.scrub(text)
        assert form not in out, how
        assert out == f"before <secret #{s.fingerprint}> after", how


def test_scrub_replaces_every_occurrence_and_stripped_form() -> None:
    s = Secret("  padded-s3cret-value\n")
    out = redact.scrub("a padded-s3cret-value b padded-s3cret-value c")
    assert "padded-s3cret-value" not in out
    assert out.count(f"<secret #{s.fingerprint}>") == 2


def test_scrub_prefers_longest_match() -> None:
    short = Secret("overlap-s3cret")
    long = Secret("overlap-s3cret-and-more")
    out = redact.scrub("x overlap-s3cret-and-more y overlap-s3cret z")
    assert out == f"x <secret #{long.fingerprint}> y <secret #{short.fingerprint}> z"


def test_scrub_ignores_tiny_values_and_leaves_other_text() -> None:
    Secret("ab")
    assert redact.scrub("ab cab abab") == "ab cab abab"
    assert redact.scrub("") == ""
    assert redact.scrub("nothing secret here") == "nothing secret here"


def test_scrub_is_idempotent() -> None:
    Secret("idem-s3cret-value")
    once = redact.scrub("x idem-s3cret-value")
    assert redact.scrub(once) == once


def test_tokeninfo_holds_no_value() -> None:
    names = {f.name for f in dataclasses.fields(TokenInfo)}
    assert not names & {"value", "secret", "token", "password"}
