"""The docs site (mkdocs.yml, docs/) without building it: every screenshot a guide uses is taken
by a browser test, every role of the officers' guide has its page with a screenshot, every
setting is documented, every page is in the navigation, and the README stays one short page
that links into the guides. `scripts/build-docs` (run by `scripts/test` after the suite) then
builds the site strictly with the screenshots of that run."""

from __future__ import annotations

import ast
import re
import unicodedata
from pathlib import Path

import yaml

from khenthuong.notify.mail_settings import MailSettings
from khenthuong.settings import PROJECT_ROOT, Settings

DOCS = PROJECT_ROOT / "docs"
E2E = PROJECT_ROOT / "tests" / "e2e"
SHOT = re.compile(r"!\[[^\]]*\]\((?:[^()\s]*/)?shots/(?P<name>[^()\s]+)\.png\)")
"""A guide's screenshot, as scripts/docs-reference copies it from the browser tests' artifacts."""
ROLES = {
    "can-bo-don-vi.md": "Cán bộ thi đua – khen thưởng của đơn vị",
    "thu-ky-hoi-dong.md": "Thư ký Hội đồng Thi đua – Khen thưởng",
    "lanh-dao-don-vi.md": "Lãnh đạo đơn vị",
    "chuyen-vien-bo.md": "Chuyên viên thi đua – khen thưởng của Bộ",
    "khoi-truong.md": "Khối trưởng, cụm trưởng",
    "kiem-tra-vien.md": "Kiểm tra viên",
}
"""The officers' guide: one page per role of issue 20, with its title."""
GENERATED = {"reference/cli.md", "reference/api.md"}
"""Pages scripts/docs-reference writes into the scratch copy at build time."""


def _shot_patterns() -> list[re.Pattern[str]]:
    """The names the browser tests save screenshots under: `_shot(page, "NAME")`, or an
    f-string whose placeholders match any text."""
    patterns = []
    for path in sorted(E2E.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_shot"):
                continue
            name = node.args[1]
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                patterns.append(re.compile(re.escape(name.value)))
            elif isinstance(name, ast.JoinedStr):
                parts = [
                    re.escape(str(v.value)) if isinstance(v, ast.Constant) else ".+"
                    for v in name.values
                ]
                patterns.append(re.compile("".join(parts)))
    return patterns


def _pages() -> dict[str, str]:
    return {
        p.relative_to(DOCS).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(DOCS.rglob("*.md"))
    }


def test_every_screenshot_a_guide_uses_is_taken_by_a_browser_test() -> None:
    patterns = _shot_patterns()
    assert len(patterns) >= 20  # the walks of tests/e2e were found
    used = {(page, m["name"]) for page, text in _pages().items() for m in SHOT.finditer(text)}
    assert len(used) >= 20
    unknown = sorted(
        f"{page}: shots/{name}.png"
        for page, name in used
        if not any(p.fullmatch(name) for p in patterns)
    )
    assert not unknown, "no browser test takes these screenshots (add a _shot call):\n" + "\n".join(
        unknown
    )


def test_every_role_has_its_page_in_vietnamese_with_a_screenshot() -> None:
    pages = _pages()
    for name, title in ROLES.items():
        text = pages[f"huong-dan/{name}"]
        assert text.startswith(f"# {title}\n"), name
        assert unicodedata.is_normalized("NFC", text), name
        assert SHOT.search(text), f"{name} shows no screenshot"
        assert re.search(r"^1\. ", text, flags=re.M), f"{name} has no numbered steps"
        assert f"]({name})" in pages["huong-dan/index.md"], f"the guide's index lists {name}"


def test_every_setting_is_documented_and_nothing_else() -> None:
    """Each KHENTHUONG_* variable the settings (and the commands' options) read is in the
    operator's settings page, and the page names no variable nothing reads."""
    read = {f"KHENTHUONG_{name.upper()}" for name in Settings.model_fields}
    for path in (PROJECT_ROOT / "src").rglob("*.py"):  # options such as serve --workers
        read.update(re.findall(r'(?:envvar|getenv\(|environ\.get\(|environ\[)\s*=?\s*"(KHENTHUONG_[A-Z0-9_]+)"',
                               path.read_text(encoding="utf-8")))  # fmt: skip
    for name, field in MailSettings.model_fields.items():
        alias = field.validation_alias
        read.add(alias if isinstance(alias, str) else f"KHENTHUONG_SMTP_{name.upper()}")
    page = (DOCS / "operator" / "settings.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(KHENTHUONG_[A-Z0-9_]+)`", page))
    assert sorted(read - documented) == [], "settings missing from docs/operator/settings.md"
    assert sorted(documented - read) == [], "docs/operator/settings.md names unknown settings"


def _nav_files(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [f for item in node for f in _nav_files(item)]
    if isinstance(node, dict):
        return [f for value in node.values() for f in _nav_files(value)]
    return []


def test_every_page_is_in_the_navigation_and_every_entry_exists() -> None:
    config = yaml.safe_load((PROJECT_ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["strict"] is True and config["theme"]["name"] == "material"
    nav = _nav_files(config["nav"])
    assert len(nav) == len(set(nav))
    assert set(nav) - set(_pages()) == GENERATED
    assert set(_pages()) - set(nav) == set()
    script = (PROJECT_ROOT / "scripts" / "docs-reference").read_text(encoding="utf-8")
    for page in GENERATED:
        assert f'"{Path(page).name}"' in script


def test_the_readme_is_one_short_page_that_links_into_the_guides() -> None:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) < 10_000
    assert text.startswith(
        "# khenthuong\n\n```bash\nbash scripts/run     # install into .venv, create"
    )
    assert "\nbash scripts/test    # install with test extras" in text
    assert "thidua2026" in text  # the demo accounts (the sign-in message of scripts/run)
    links = re.findall(r"\]\((docs/[^)#]+)(?:#[^)]*)?\)", text)
    assert len(links) >= 20
    missing = [link for link in links if not (PROJECT_ROOT / link).is_file()]
    assert not missing
    for name in ROLES:
        assert f"docs/huong-dan/{name}" in links
