"""Never two languages in one message: what the code raises for an officer to read is
Vietnamese, with its English (for the English pages) apart in `en=`, not a Vietnamese message
with an English gloss in brackets ("Không tìm thấy (not found)")."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import khenthuong

SRC = Path(khenthuong.__file__).parent
VIETNAMESE = re.compile(
    "[àáảãạăắằẳẵặâấầẩẫậèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵđ]", re.I
)
ENGLISH_GLOSS = re.compile(
    r"\((?!khenthuong )([\x20-\x7e]*?\b[a-z]{2,} [a-z]{2,}\b[\x20-\x7e]*?)\)"
)
"""Brackets holding plain ASCII words, two in a row ("(not found)", "(no unit {code})"), that
are not a command to run ("(khenthuong registrations add)")."""
MESSAGE_CALLS = re.compile(r"(Error|NotFound|Forbidden|Refused|Problem|Conflict|deny|problem)$")
OPERATOR_ONLY = {"notify/smtp.py", "runtime.py", "documents/render.py", "documents/signing.py"}
"""Messages for whoever runs the server (mail, database, LibreOffice, trust roots), not for
officers; they name settings and commands in English."""


def _text(node: ast.AST) -> str | None:
    """A literal's text, f-string holes as {}; implicit concatenation is one literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def mixed_messages(root: Path) -> list[str]:
    """`path:line: text` of every raised or refused message holding both languages."""
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(("cli/", "migrations/")) or rel in OPERATOR_ONLY:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if not MESSAGE_CALLS.search(name):
                continue
            for arg in node.args:
                text = _text(arg)
                if text and VIETNAMESE.search(text) and ENGLISH_GLOSS.search(text):
                    found.append(f"{rel}:{node.lineno}: {text}")
    return found


def test_no_message_holds_two_languages() -> None:
    assert mixed_messages(SRC) == []


def test_the_scan_finds_a_gloss(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        'def f(code):\n    raise NotFound(f"Không có đơn vị {code} (no unit {code})")\n'
        'def g(code):\n    raise NotFound(f"Không có đơn vị {code}", en=f"No unit {code}")\n'
        'def h():\n    raise KhenthuongError("Chọn cá nhân (--person) hoặc tập thể")\n',
        encoding="utf-8",
    )
    assert [m.split(":")[1] for m in mixed_messages(tmp_path)] == ["2"]
