"""Questions the CLI asks on the terminal, in Vietnamese.

Typer's own prompt words its second asking ("Repeat for confirmation"), its mismatch
("Error: The two entered values do not match.") and its yes/no ("[y/N]", "Error: invalid
input") in English; these ask the same in Vietnamese. Every command asks through them
(tests/cli/test_usage_errors.py checks no command calls typer.prompt or typer.confirm).
An interrupted question (Ctrl-C, end of input) ends the command with "Đã hủy." and exit 1.
"""

from __future__ import annotations

import typer

AGAIN = "Nhập lại để xác nhận"
MISMATCH = "Lỗi: hai lần nhập không giống nhau; nhập lại."
YES = frozenset({"c", "có", "co", "y", "yes"})
NO = frozenset({"k", "không", "khong", "n", "no"})
YES_NO = "Trả lời c (có) hoặc k (không)."


def ask(
    text: str,
    *,
    secret: bool = False,
    twice: bool = False,
    default: str | None = None,
    show_default: bool = True,
) -> str:
    """The answer to `text` (`secret`: not shown as typed; `twice`: asked again until the two
    answers are the same, as for a new password)."""
    while True:
        first = str(
            typer.prompt(text, default=default, hide_input=secret, show_default=show_default)
        )
        if not twice:
            return first
        again = str(typer.prompt(AGAIN, default=default, hide_input=secret, show_default=False))
        if again == first:
            return first
        typer.echo(MISMATCH, err=True)


def confirm(text: str, *, default: bool = False) -> bool:
    """Yes or no to `text`: c/có or k/không (y/n too); an empty answer is `default`, shown in
    capitals ([c/K] or [C/k])."""
    choices = "[C/k]" if default else "[c/K]"
    while True:
        answer = str(typer.prompt(f"{text} {choices}", default="", show_default=False))
        answer = answer.strip().lower()
        if not answer:
            return default
        if answer in YES:
            return True
        if answer in NO:
            return False
        typer.echo(YES_NO, err=True)
