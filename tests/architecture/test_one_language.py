"""Never two languages in one message: what the code raises for an officer to read is
Vietnamese, with its English (for the English pages) apart in `en=`, not a Vietnamese message
with an English gloss in brackets ("Không tìm thấy (not found)"). And the pages say nothing
in Vietnamese that the English locale cannot say in English: their words come from the
catalogs (or a (vi, en) pair), not from a Vietnamese literal in a page module or template."""

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
MESSAGE_CALLS = re.compile(
    r"(Error|NotFound|Forbidden|Refused|Problem|Conflict|Unavailable|deny|problem)$"
)
"""Also the messages for whoever runs the server (mail, database, templates, trust roots):
the administrator reads them too (the mail alert, the pages), so they follow the rule."""


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
        if rel.startswith(("cli/", "migrations/")):
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


PAGE_DATA = {
    ("ui_councils.py", "(vắng)"): "how a member typed as absent is read, not a message",
    ("ui_persons.py", "đã hủy"): "a cell of the history export, in the import's own format",
    ("ui_blocs_year.py", "Cờ thi đua cấp Bộ"): "the default of a name stored with the bloc",
    ("ui_proposals.py", "Đề nghị khen thưởng ({})"): "the title a batch is stored with",
    ("ui_unit_year.py", "Bình xét thi đua năm {}"): "the title a batch is stored with",
}
"""Vietnamese literals of the page modules that are data, not words of the page."""
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
DECISION_SIGN = re.compile(r"QĐ")
"""Decision numbers are written …/QĐ-… in either language."""


def _spoken_apart(tree: ast.AST) -> set[int]:
    """Ids of the literals that are not a page's own words: docstrings, the Vietnamese of a
    (vi, en) pair, a message with its English apart (`en=`), a Refusal's Vietnamese."""
    apart: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            apart.add(id(body[0].value))
        if isinstance(node, ast.Tuple) and len(node.elts) == 2:
            apart.update(id(n) for n in ast.walk(node.elts[0]))
        if isinstance(node, ast.Call):
            if any(k.arg == "en" for k in node.keywords):
                apart.update(id(n) for a in node.args for n in ast.walk(a))
            if getattr(node.func, "id", "") == "Refusal" and len(node.args) >= 3:
                apart.update(id(n) for n in ast.walk(node.args[1]))
        if isinstance(node, ast.JoinedStr):  # its parts: the whole is checked
            apart.update(id(v) for v in node.values)
    return apart


def page_literals(web: Path) -> list[str]:
    """`file:line: text` of every Vietnamese literal of the page modules (ui*.py) and of
    the templates that is not spoken apart in English nor listed as data."""
    found = []
    for path in sorted(web.glob("ui*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        apart = _spoken_apart(tree)
        for node in ast.walk(tree):
            text = None if id(node) in apart else _text(node)
            if text and VIETNAMESE.search(text) and (path.name, text) not in PAGE_DATA:
                found.append(f"{path.name}:{node.lineno}: {text}")  # type: ignore[attr-defined]
    for path in sorted((web / "templates").glob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            words = DECISION_SIGN.sub("", JINJA.sub("", line))
            if VIETNAMESE.search(words):
                found.append(f"templates/{path.name}:{number}: {line.strip()}")
    return found


def test_pages_have_no_vietnamese_literal() -> None:
    assert page_literals(SRC / "web") == []


def test_the_page_scan_finds_a_literal(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "p.html").write_text(
        "<p>{{ t('ok') }} Chưa có</p>\n<input placeholder='1/QĐ-BCY' value=\"{{ 'Mã' }}\">\n",
        encoding="utf-8",
    )
    (tmp_path / "ui_x.py").write_text(
        'S = {"k": ("Ngày", "Date")}\n'
        'def f(e):\n    """Trả về."""\n    raise KhenthuongError(f"Ngày không hợp lệ: {e}")\n'
        'def g(e):\n    raise KhenthuongError("Ngày sai", en="Bad date")\n',
        encoding="utf-8",
    )
    assert [m.split(":")[0] + ":" + m.split(":")[1] for m in page_literals(tmp_path)] == [
        "ui_x.py:4",
        "templates/p.html:1",
    ]
