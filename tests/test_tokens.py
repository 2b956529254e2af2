"""hardoctor.tokens: JWTs (real signed ones), malformed values, peeling every
encoding layer, and Maven decryption against independently produced vectors
(and against real `mvn --encrypt-*` output when Maven is installed)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from hardoctor import tokens
from hardoctor.model import Secret, fingerprint
from hardoctor.tokens import PeelError
from hardoctor_k8s import peel as k8s_peel
from hardoctor_maven import cipher

NOW = datetime.now(timezone.utc).replace(microsecond=0)
PAT = "pat.AcmeX1bcDEfgHIjkLMno12.6418b2a4ef2d1e3b41cb12a1.Zk3qW9rT2vXy8LmN0pQa"
NPM = "npm_" + "a1B2c3D4e5F6g7H8i9J0" + "k1L2m3N4o5P6q7R8"


def rsa_jwt(claims: dict[str, object], headers: dict[str, object] | None = None) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return jwt.encode(claims, pem, algorithm="RS256", headers=headers)


def es_jwt(claims: dict[str, object]) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(claims, key, algorithm="ES256")


def ts(dt: datetime) -> int:
    return int(dt.timestamp())


# --------------------------------------------------------------------- JWT


def test_registry_jwt_claims_and_expiry() -> None:
    token = rsa_jwt(
        {
            "iss": "har",
            "sub": "dev@acme.io",
            "aud": "Harness Registry",
            "iat": ts(NOW - timedelta(hours=1)),
            "nbf": ts(NOW - timedelta(hours=1)),
            "exp": ts(NOW + timedelta(hours=23)),
            "access": [
                {"type": "repository", "name": "acmex1/docker-prod/web", "actions": ["pull"]}
            ],
        },
        headers={"kid": "ABCD:EFGH"},
    )
    info = tokens.decode_jwt(Secret(token), NOW, 7)
    assert info is not None
    assert info.kind == "jwt" and info.expiry_source == "token"
    assert info.expires_at == NOW + timedelta(hours=23)
    assert info.issued_at == NOW - timedelta(hours=1)
    assert info.status == "expiring-soon"  # 23 h is within 7 days
    assert info.details["alg"] == "RS256"
    assert info.details["iss"] == "har" and info.details["aud"] == "Harness Registry"
    assert info.details["access"][0]["actions"] == ["pull"]
    assert info.fingerprint == fingerprint(token)


def test_jwt_expired_valid_and_no_exp() -> None:
    expired = es_jwt({"exp": ts(NOW - timedelta(days=2)), "iat": ts(NOW - timedelta(days=3))})
    assert tokens.decode_jwt(Secret(expired), NOW, 7).status == "expired"  # type: ignore[union-attr]
    valid = es_jwt({"exp": ts(NOW + timedelta(days=30))})
    assert tokens.decode_jwt(Secret(valid), NOW, 7).status == "valid"  # type: ignore[union-attr]
    no_exp = jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256")
    info = tokens.decode_jwt(Secret(no_exp), NOW, 7)
    assert info is not None and info.status == "unknown" and info.expiry_source == "unknown"


def test_not_a_jwt() -> None:
    for value in ("abc.def.ghi", PAT, NPM, "a.b", "", "eyJhbGciOi.x.y"):
        assert tokens.jwt_claims(value) is None


def test_clock_skew_from_future_iat_and_nbf() -> None:
    token = rsa_jwt({"iat": ts(NOW + timedelta(minutes=40)), "exp": ts(NOW + timedelta(hours=2))})
    info = tokens.decode_jwt(Secret(token), NOW, 7)
    assert info is not None
    skew = tokens.clock_skew(info, NOW)
    assert skew is not None and timedelta(minutes=39) < skew <= timedelta(minutes=40)
    nbf = rsa_jwt({"nbf": ts(NOW + timedelta(minutes=10))})
    assert tokens.clock_skew(tokens.decode_jwt(Secret(nbf), NOW, 7), NOW) is not None  # type: ignore[arg-type]
    # within the 60 s leeway: not skew
    close = rsa_jwt({"iat": ts(NOW + timedelta(seconds=30))})
    assert tokens.clock_skew(tokens.decode_jwt(Secret(close), NOW, 7), NOW) is None  # type: ignore[arg-type]


def test_status_for_boundaries() -> None:
    assert tokens.status_for(None, NOW, 7) == "unknown"
    assert tokens.status_for(NOW, NOW, 7) == "expired"
    assert tokens.status_for(NOW + timedelta(days=7), NOW, 7) == "expiring-soon"
    assert tokens.status_for(NOW + timedelta(days=7, seconds=1), NOW, 7) == "valid"
    assert tokens.status_for(NOW + timedelta(hours=1), NOW, 0) == "valid"


def test_decode_generic_formats_and_problems() -> None:
    info = tokens.decode_generic(Secret(NPM), "bearer", NOW, 7)
    assert info.kind == "opaque" and info.details["format"] == "npm-token" and not info.problems
    info = tokens.decode_generic(Secret("s3cr3t-identity"), "identitytoken", NOW, 7)
    assert info.details["format"] == "docker-identity-token"
    info = tokens.decode_generic(Secret("hunter2-password\n"), "basic", NOW, 7)
    assert info.kind == "basic"
    assert info.details["problem_codes"] == ("newline",)
    assert info.fingerprint == fingerprint("hunter2-password")  # the token as intended
    # a JWT with a stray newline is still decoded (and reported)
    token = rsa_jwt({"exp": ts(NOW - timedelta(days=1))})
    info = tokens.decode_generic(Secret(token + "\n"), "bearer", NOW, 7)
    assert (
        info.kind == "jwt"
        and info.status == "expired"
        and "newline" in info.details["problem_codes"]
    )
    info = tokens.decode_generic(Secret(NPM), "basic", NOW, 7, username=PAT)
    assert info.details["problem_codes"] == ("token-as-username",)


# -------------------------------------------------------- malformed values


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (PAT + "\n", "newline"),
        (PAT + "\r\n", "newline"),
        (PAT + " ", "trailing-whitespace"),
        (" " + PAT, "leading-whitespace"),
        (PAT[:20] + "\n" + PAT[20:], "inner-whitespace"),
        (f'"{PAT}"', "quoted"),
        (f"'{PAT}'", "quoted"),
        ("\u201c" + PAT + "\u201d", "quoted"),
        (PAT + "\u200b", "invisible"),
        ("\ufeff" + PAT, "invisible"),
        (PAT[:10] + "\x07" + PAT[10:], "control-char"),
        (PAT.replace("-", "\u2013") + "\u2013x", "non-ascii"),
        ("<token>", "placeholder"),
        ("<YOUR_HARNESS_TOKEN>", "placeholder"),
        ("YOUR_TOKEN", "placeholder"),
        ("your-api-key", "placeholder"),
        ("changeme", "placeholder"),
        ("xxxxxxxx", "placeholder"),
        ("********", "placeholder"),
        ("${NPM_TOKEN}", "env-literal"),
        ("prefix-${HARNESS_TOKEN}", "env-literal"),
        ("$HARNESS_TOKEN", "env-literal"),
        ("%HARNESS_TOKEN%", "env-literal"),
        ("{{ .Values.registry.token }}", "template-literal"),
        ("pat.AcmeX1.6418…", "masked"),
        ("dev@acme.io", "email"),
        ("", "empty"),
    ],
)
def test_value_problems(value: str, code: str) -> None:
    codes = [p.code for p in tokens.value_problems(value)]
    assert code in codes, codes
    for p in tokens.value_problems(value):
        if len(value.strip()) > 8:
            assert value.strip() not in p.text  # problems never quote the value


@pytest.mark.parametrize("value", [PAT, NPM, "s3cr3t", "Zk3qW9rT2vXy8LmN0pQa", "hunter2!"])
def test_clean_values_have_no_problems(value: str) -> None:
    assert tokens.value_problems(value) == []


def test_real_jwt_has_no_problems() -> None:
    assert tokens.value_problems(rsa_jwt({"sub": "x"})) == []


def test_username_problems() -> None:
    assert [p.code for p in tokens.username_problems(PAT)] == ["token-as-username"]
    assert [p.code for p in tokens.username_problems(rsa_jwt({"a": 1}))] == ["token-as-username"]
    assert [p.code for p in tokens.username_problems(NPM)] == ["token-as-username"]
    for ok in ("dev@acme.io", "harness", "oauth2accesstoken", "<token>", None, ""):
        assert tokens.username_problems(ok) == []


def test_clean_token() -> None:
    assert tokens.clean_token(f'  "{PAT}"\n') == PAT
    assert tokens.clean_token(f"'{PAT}'") == PAT
    assert tokens.clean_token("\u201c" + PAT + "\u201d") == PAT
    assert tokens.clean_token('"') == '"'
    assert tokens.clean_token(PAT) == PAT


def test_token_format_and_looks_like_token() -> None:
    assert tokens.token_format(NPM) == "npm-token"
    # Vendor prefixes live in the vendor plugins (hardoctor_decode_secret), not the core.
    assert tokens.token_format("dckr_pat_abc") is None
    assert tokens.token_format("0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0") == "uuid"
    assert tokens.token_format("hunter2") is None
    assert tokens.looks_like_token(PAT) and tokens.looks_like_token("A1b2" * 9)
    assert not tokens.looks_like_token("dev@acme.io") and not tokens.looks_like_token("admin")


# ------------------------------------------------------------------ peeling


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_peel_docker_auth() -> None:
    up = tokens.peel_basic_auth(b64(f"dev@acme.io:{PAT}"))
    assert up.username == "dev@acme.io" and up.password.reveal() == PAT and not up.problems
    # split at the FIRST colon, like Docker: a colon in the password survives
    assert tokens.peel_basic_auth(b64("u:pa:ss")).password.reveal() == "pa:ss"
    # trailing NULs trimmed like Docker
    assert tokens.peel_basic_auth(b64("u:tok\x00\x00")).password.reveal() == "tok"
    assert [p.code for p in tokens.peel_basic_auth(b64(":tok")).problems] == ["empty-username"]
    assert PAT not in repr(up) and "dev@acme.io" in repr(up)


def test_peel_docker_auth_errors() -> None:
    unpadded = b64("dev@acme.io:" + PAT + "x").rstrip("=")
    assert unpadded != b64("dev@acme.io:" + PAT + "x")
    with pytest.raises(PeelError) as exc:
        tokens.peel_basic_auth(unpadded)  # Docker is strict
    assert exc.value.code == "bad-base64" and "padded" in str(exc.value)
    assert (
        tokens.peel_basic_auth(unpadded, strict=False).password.reveal() == PAT + "x"
    )  # npm is not
    with pytest.raises(PeelError) as exc:
        tokens.peel_basic_auth(b64(PAT))
    assert exc.value.code == "no-colon" and PAT not in str(exc.value)
    with pytest.raises(PeelError) as exc:
        tokens.peel_basic_auth(b64(b64(f"dev@acme.io:{PAT}")))
    assert exc.value.code == "double-encoded"
    with pytest.raises(PeelError) as exc:
        tokens.peel_basic_auth("not base64 at all!")
    assert exc.value.code == "bad-base64"
    with pytest.raises(PeelError) as exc:
        tokens.peel_basic_auth(base64.b64encode(b"\xff\xfe:\x00\x01").decode())
    assert exc.value.code == "not-text"
    # Go's StdEncoding ignores line breaks inside the value
    wrapped = b64(f"dev@acme.io:{PAT}")
    assert tokens.peel_basic_auth(wrapped[:20] + "\n" + wrapped[20:]).password.reveal() == PAT


def test_peel_npm_password() -> None:
    assert tokens.peel_base64_password(b64(PAT)).reveal() == PAT
    assert tokens.peel_base64_password(b64(PAT).rstrip("=")).reveal() == PAT
    with pytest.raises(PeelError) as exc:
        tokens.peel_base64_password(PAT)  # a plain token in _password: Node would decode garbage
    assert exc.value.code == "not-base64"


def test_peel_url_userinfo() -> None:
    url = (
        "https://dev%40acme.io:"
        + PAT.replace(".", "%2E")
        + "@pkg.harness.io/pkg/AcmeX1/py/python/simple"
    )
    got = tokens.peel_url_userinfo(url)
    assert got.url == "https://pkg.harness.io/pkg/AcmeX1/py/python/simple"
    assert got.userpass is not None
    assert got.userpass.username == "dev@acme.io" and got.userpass.password.reveal() == PAT
    assert not got.userpass.problems
    raw_at = tokens.peel_url_userinfo(f"https://dev@acme.io:{PAT}@pkg.harness.io/simple")
    assert raw_at.userpass is not None and raw_at.userpass.username == "dev@acme.io"
    assert [p.code for p in raw_at.userpass.problems] == ["raw-at"]
    assert tokens.peel_url_userinfo("https://pkg.harness.io/x").userpass is None
    only_user = tokens.peel_url_userinfo(f"https://{NPM}@host/x")
    assert only_user.userpass is not None and only_user.userpass.username == NPM
    assert only_user.userpass.password.reveal() == ""
    bad = tokens.peel_url_userinfo("https://u:50%zz@host/")
    assert bad.userpass is not None and "bad-percent" in [p.code for p in bad.userpass.problems]


def dockerconfigjson(token: str) -> str:
    return json.dumps({"auths": {"pkg.harness.io": {"auth": b64(f"dev@acme.io:{token}")}}})


def test_peel_k8s_json() -> None:
    data = b64(dockerconfigjson(PAT))
    parsed, problems = k8s_peel.peel_k8s_json(data)
    assert problems == ()
    auth = parsed["auths"]["pkg.harness.io"]["auth"]
    assert tokens.peel_basic_auth(auth).password.reveal() == PAT
    # the double-encoded mistake still yields the JSON, with the problem named
    parsed, problems = k8s_peel.peel_k8s_json(b64(data))
    assert parsed["auths"]["pkg.harness.io"]["auth"] == auth
    assert [p.code for p in problems] == ["double-encoded"]
    with pytest.raises(PeelError) as exc:
        k8s_peel.peel_k8s_json(dockerconfigjson(PAT))
    assert exc.value.code == "not-base64" and "stringData" in str(exc.value)
    with pytest.raises(PeelError) as exc:
        k8s_peel.peel_k8s_json(b64("just text"))
    assert exc.value.code == "bad-json"
    assert k8s_peel.peel_k8s_data(b64("x:y")) == "x:y"
    with pytest.raises(PeelError):
        k8s_peel.peel_k8s_data(b64("x:yz").rstrip("="))


# ------------------------------------------------------------------- Maven


def plexus_encrypt(plain: str, password: str, salt: bytes | None = None) -> str:
    """plexus-cipher 2.0 PBECipher, written from its documented format:
    base64(salt(8) | padLen(1) | AES-128-CBC/PKCS5(plain) | padLen bytes),
    key||iv = SHA-256(password bytes + salt)."""
    salt = salt if salt is not None else os.urandom(8)
    digest = hashlib.sha256(password.encode("utf-8") + salt).digest()
    key, iv = digest[:16], digest[16:32]
    padder = padding.PKCS7(128).padder()
    data = padder.update(plain.encode("utf-8")) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ct = enc.update(data) + enc.finalize()
    pad_len = 16 - (8 + len(ct) + 1) % 16
    blob = salt + bytes([pad_len]) + ct + os.urandom(pad_len)
    return "{" + base64.b64encode(blob).decode() + "}"


def test_maven_recognise() -> None:
    enc = cipher.maven_encrypted("{COQLCE6DU6GtcS5P=}")
    assert enc is not None and enc.format == "plexus" and enc.readable
    commented = cipher.maven_encrypted("Oleg reset this on 2009-03-11 {COQLCE6DU6GtcS5P=}")
    assert commented is not None and commented.comment.startswith("Oleg")
    m4 = cipher.maven_encrypted(
        "{[name=master,cipher=AES/GCM/NoPadding,version=4.0]vvq66pZ7rkvzSPStGTI9q4QDnsmuDwo+LtjraRel2b0XpcGJFdXcYAHAS75HUA6GLpcVtEnmyQ==}"
    )
    assert m4 is not None and m4.format == "maven4" and not m4.readable
    assert m4.attributes == {"name": "master", "cipher": "AES/GCM/NoPadding", "version": "4.0"}
    assert "AES/GCM/NoPadding" in m4.why_unreadable
    with pytest.raises(PeelError) as exc:
        cipher.maven_decrypt("{[name=master,cipher=AES/GCM/NoPadding,version=4.0]abc=}", "x")
    assert exc.value.code == "unreadable"
    for plain in ("hunter2", "${env.TOKEN}", "{not base64!}", ""):
        assert cipher.maven_encrypted(plain) is None
    assert cipher.maven_encrypted(r"\{escaped\}") is None
    assert "COQLCE6DU6GtcS5P" not in repr(enc)


def test_maven_decrypt_independent_vectors() -> None:
    master_plain = "m@ster-Passw0rd"
    master_enc = plexus_encrypt(master_plain, cipher.MAVEN_MASTER_PASSPHRASE)
    assert cipher.maven_decrypt_master(master_enc).reveal() == master_plain
    for plain in (PAT, "x", "p" * 15, "q" * 16, "ünïcödé-tökén", NPM):
        enc = plexus_encrypt(plain, master_plain)
        got = cipher.maven_decrypt(enc, master_plain)
        assert isinstance(got, Secret) and got.reveal() == plain
        assert cipher.maven_decrypt(f"comment {enc} more", Secret(master_plain)).reveal() == plain
    # fixed salt: deterministic, and the same vector decrypts every run
    fixed = plexus_encrypt(PAT, master_plain, salt=bytes(range(8)))
    assert cipher.maven_decrypt(fixed, master_plain).reveal() == PAT


def test_maven_decrypt_errors() -> None:
    enc = plexus_encrypt(PAT, "right-master")
    with pytest.raises(PeelError) as exc:
        for i in range(20):  # a wrong key can pass the padding check by chance; never all 20
            cipher.maven_decrypt(enc, f"wrong-{i}")
    assert exc.value.code == "wrong-master" and PAT not in str(exc.value)
    with pytest.raises(PeelError) as exc:
        cipher.maven_decrypt("{" + base64.b64encode(b"short").decode() + "}", "m")
    assert exc.value.code == "bad-length"
    with pytest.raises(PeelError) as exc:
        cipher.maven_decrypt("plain", "m")
    assert exc.value.code == "not-encrypted"


def test_parse_settings_security() -> None:
    master = plexus_encrypt("mm", cipher.MAVEN_MASTER_PASSPHRASE)
    sec = cipher.parse_settings_security(
        "<?xml version='1.0'?>\n"
        f"<settingsSecurity>\n  <master>{master}</master>\n</settingsSecurity>\n"
    )
    assert sec.master == master and sec.relocation is None
    assert master.strip("{}") not in repr(sec)
    assert cipher.maven_decrypt_master(sec.master).reveal() == "mm"
    rel = cipher.parse_settings_security(
        "<settingsSecurity><relocation>/mnt/usb/settings-security.xml</relocation></settingsSecurity>"
    )
    assert rel.master is None and rel.relocation == "/mnt/usb/settings-security.xml"
    with pytest.raises(PeelError) as exc:
        cipher.parse_settings_security("<settingsSecurity><master>")
    assert exc.value.code == "bad-xml"


def _mvn(args: list[str], home: Path) -> str:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "MAVEN_OPTS": "-Xmx128m"}
    out = subprocess.run(
        ["mvn", "-B", "-q", *args], capture_output=True, text=True, env=env, timeout=120, check=True
    ).stdout
    m = re.search(r"\{[A-Za-z0-9+/=]+\}", out)
    assert m, out
    return m.group(0)


@pytest.mark.slow
def test_maven_decrypt_real_mvn_values(tmp_path: Path) -> None:
    if shutil.which("mvn") is None:
        pytest.skip("mvn is not installed")
    master_plain = "hardoctor-master-" + os.urandom(4).hex()
    master_enc = _mvn(["--encrypt-master-password", master_plain], tmp_path)
    assert cipher.maven_decrypt_master(master_enc).reveal() == master_plain
    sec = tmp_path / "settings-security.xml"
    sec.write_text(f"<settingsSecurity><master>{master_enc}</master></settingsSecurity>")
    token = (
        "pat.AcmeX1."
        + os.urandom(12).hex()
        + "."
        + base64.urlsafe_b64encode(os.urandom(15)).decode()
    )
    enc = _mvn([f"-Dsettings.security={sec}", "--encrypt-password", token], tmp_path)
    master = cipher.maven_decrypt_master(
        cipher.parse_settings_security(sec.read_text()).master or ""
    )
    assert cipher.maven_decrypt(enc, master).reveal() == token


# ------------------------------------------------------------ token input


def test_read_one_token() -> None:
    assert tokens.read_one_token(io.StringIO(PAT + "\n")).reveal() == PAT
    assert tokens.read_one_token(io.StringIO(PAT + "\r\n")).reveal() == PAT
    # only the one newline a pipe adds is dropped: a second one is the token's
    assert tokens.read_one_token(io.StringIO(PAT + "\n\n")).reveal() == PAT + "\n"
    with pytest.raises(tokens.TokenInputError):
        tokens.read_one_token(io.StringIO(""))
    with pytest.raises(tokens.TokenInputError):
        tokens.read_one_token(io.StringIO("  \n"))
    with pytest.raises(tokens.TokenInputError) as exc:
        tokens.read_one_token(io.StringIO(f"{PAT}\n{NPM}\n"))
    assert "2 lines" in str(exc.value) and PAT not in str(exc.value)
    with pytest.raises(tokens.TokenInputError):
        tokens.read_one_token(None)


def test_sha256_fingerprint_is_stable() -> None:
    assert fingerprint(PAT) == hashlib.sha256(PAT.encode()).hexdigest()[:8]
    assert Secret(PAT).fingerprint == fingerprint(PAT)
