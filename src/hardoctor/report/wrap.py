"""Text that fits the terminal: prose wrapped at spaces, never inside a word
(a path, a URL or a fingerprint stays whole, on a line of its own when it
must), and commands broken only between shell words with a `` \\``
continuation, so a copied command still runs."""

from __future__ import annotations

import re


def wrap(text: str, width: int, indent: str = "", rest: str | None = None) -> list[str]:
    """Greedy fill of ``text`` to ``width`` columns, keeping the spacing
    between words as written (only a break drops it).  A word longer than
    the room left after ``rest`` starts a line of its own, with as much of
    the indent as still lets it fit."""
    rest = indent if rest is None else rest
    out: list[str] = []
    for para in text.split("\n"):
        line = start = indent if not out else rest
        gap = ""
        for piece in re.split(r"( +)", para):
            if not piece:
                continue
            if piece.startswith(" "):
                gap = piece
                continue
            word, sep = piece, (gap if line != start else "")
            gap = ""
            if line != start and len(line) + len(sep) + len(word) > width:
                out.append(line)
                line = start = rest
                sep = ""
            if line == start and len(start) + len(word) > width:
                # Too long even on a line of its own: keep it whole, indented less.
                line = start = start[: max(0, width - len(word))]
            line = line + sep + word
        out.append(line)
    return out


def shell_words(cmd: str) -> list[str]:
    """Split at unquoted spaces, keeping quotes (and what they hold) intact."""
    words: list[str] = []
    cur = ""
    quote = ""
    escaped = False
    for ch in cmd:
        if escaped:
            cur += ch
            escaped = False
        elif ch == "\\" and quote != "'":
            cur += ch
            escaped = True
        elif quote:
            cur += ch
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            cur += ch
            quote = ch
        elif ch == " ":
            if cur:
                words.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        words.append(cur)
    return words


def command_lines(cmd: str, width: int, indent: str = "", prompt: str = "$ ") -> list[str]:
    """``$ cmd`` on its own line(s): broken only between shell words, each
    broken line ending in `` \\``; a multi-line command (a heredoc, say) is
    kept as written."""
    if "\n" in cmd or len(indent) + len(prompt) + len(cmd) <= width:
        first, *more = cmd.split("\n")
        return [indent + prompt + first, *more]
    words = shell_words(cmd)
    lines: list[str] = []
    cont = indent + " " * (len(prompt) + 2)
    line = indent + prompt
    start = line
    for n, word in enumerate(words):
        room = width - (0 if n == len(words) - 1 else 2)  # the last word needs no " \\"
        if line != start and len(line) + 1 + len(word) > room:
            lines.append(line + " \\")
            line = start = cont
        line = line + word if line == start else f"{line} {word}"
    lines.append(line)
    return lines
