"""Reading one token from standard input (never from argv, where shell
history and ``ps`` would see it)."""

from __future__ import annotations

from typing import TextIO

from hardoctor.model import Secret

_EMPTY = "no token on stdin (pipe it in: hardoctor token inspect < token.txt)"
#: The most a token on stdin may hold.  Real tokens are under 8 KiB (a JWT
#: with many claims); more is a mistake (``yes |``, a file of the wrong
#: kind), refused at once without reading the rest.
MAX_TOKEN_CHARS = 64 * 1024


class TokenInputError(Exception):
    """Bad input to ``hardoctor token inspect`` (exit 2, one line)."""


def read_one_token(stream: TextIO | None) -> Secret:
    """Read exactly one token from ``stream`` (stdin).

    The one line break a shell pipe adds (``echo "$T" |``) is dropped; any
    other whitespace stays, so it is reported.  A terminal gets no echo.
    """
    if stream is None:
        raise TokenInputError(_EMPTY)
    isatty = getattr(stream, "isatty", None)
    if callable(isatty) and isatty():
        import getpass

        text = getpass.getpass("Token (input hidden): ")
    else:
        try:
            text = stream.read(MAX_TOKEN_CHARS + 1)
        except UnicodeDecodeError as exc:
            raise TokenInputError(f"stdin is not UTF-8 text (byte {exc.start})") from None
        if len(text) > MAX_TOKEN_CHARS:
            raise TokenInputError(
                f"stdin holds more than {MAX_TOKEN_CHARS // 1024} KiB; a token is far shorter "
                "(refused without reading the rest)")
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if not text.strip():
        raise TokenInputError(_EMPTY)
    secret = Secret(text)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) > 1:
        raise TokenInputError(f"expected one token on stdin, got {len(lines)} lines")
    return secret
