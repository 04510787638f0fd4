"""The wording of the refusals several services give about roles and steps: a role by its
title (config/roles.yaml), a step or state by its title, a person by their full name, never
a code. Each refusal carries the
Vietnamese and the English text; a page shows the one of its language, the CLI the
Vietnamese. The codes stay in the refusal's details (for the API)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from khenthuong.errors import Forbidden, KhenthuongError, Refusal
from khenthuong.roles import RoleDef, roles_in
from khenthuong.workflow.definition import WorkflowDef

OR = {"vi": " hoặc ", "en": " or "}
AND = {"vi": ", ", "en": ", "}


def _configured_roles() -> Mapping[str, RoleDef]:
    from khenthuong.settings import get_settings  # noqa: PLC0415 (read when a refusal is made)

    try:
        return roles_in(get_settings().config_dir)
    except (KhenthuongError, OSError):
        return {}


def role_titles(
    codes: Sequence[str],
    lang: str,
    roles: Mapping[str, RoleDef] | None = None,
    *,
    joiner: Mapping[str, str] = OR,
) -> str:
    """`unit_head`, `minister` → "Thủ trưởng đơn vị hoặc Bộ trưởng, …" in `lang` ('vi' or
    'en'), joined by "or" (or `joiner`); an unknown code shows as itself."""
    known = _configured_roles() if roles is None else roles
    titles = [
        str(known[c].title.en if lang == "en" else known[c].title.vi) if c in known else c
        for c in codes
    ]
    return joiner["en" if lang == "en" else "vi"].join(titles)


def missing_role(who: str, roles: Sequence[str]) -> Refusal:
    """`who` (a person's name) holds none of the step's `roles` over the nomination's unit."""
    return Refusal(
        "role",
        f"{who} không có vai trò {role_titles(roles, 'vi')} đối với đơn vị của hồ sơ",
        f"{who} does not hold the role {role_titles(roles, 'en')} over this nomination's unit",
        {"roles": list(roles)},
    )


def only_role_proposes(role: str, unit: str) -> Refusal:
    """Only a holder of the workflow's first role over `unit` (its name) may propose."""
    return Refusal(
        "role",
        f"Chỉ {role_titles([role], 'vi')} của {unit} được lập đề nghị",
        f"Only the {role_titles([role], 'en')} of {unit} may propose",
        {"roles": [role]},
    )


def cannot_sign(who: str, award: tuple[str, str], role: str, authority: str) -> Forbidden:
    """`who` does not hold the signing `role` at `authority` (a unit's name) for `award`
    (its Vietnamese and English names)."""
    return Forbidden(
        f"{who} không có thẩm quyền ký {award[0]} của {authority}: cần vai trò "
        f"{role_titles([role], 'vi')} tại {authority}",
        en=f"{who} cannot sign {award[1]} for {authority}: it needs the role "
        f"{role_titles([role], 'en')} at {authority}",
    )


def cannot_delegate(who: str, unit: str, roles: Sequence[str] = ()) -> Forbidden:
    """`who` holds none of `roles` (or no role at all) over `unit` (its name), so cannot
    delegate them."""
    if roles:
        return Forbidden(
            f"{who} không giữ vai trò {role_titles(roles, 'vi', joiner=AND)} đối với {unit}, "
            "nên không thể ủy quyền vai trò đó",
            en=f"{who} does not hold the role {role_titles(roles, 'en', joiner=AND)} over "
            f"{unit}, so cannot delegate it",
        )
    return Forbidden(
        f"{who} không giữ vai trò nào đối với {unit}",
        en=f"{who} holds no role over {unit}",
    )


def wrong_state(wf: WorkflowDef, state: str, trigger: str) -> Refusal:
    """The step `trigger` cannot be taken from `state`: both by their titles, and the steps
    that can (their codes in the details)."""
    steps = {t.trigger: t.title for t in wf.transitions}
    possible = sorted({t.trigger for t in wf.transitions_from(state)})
    here = wf.state(state).title

    def say(lang: str) -> tuple[str, str, str]:
        def pick(text: object) -> str:
            return str(getattr(text, lang))

        step = pick(steps[trigger]) if trigger in steps else trigger
        return step, pick(here), ", ".join(pick(steps[p]) for p in possible)

    step_vi, here_vi, can_vi = say("vi")
    step_en, here_en, can_en = say("en")
    return Refusal(
        "state",
        f"Không thể thực hiện '{step_vi}' khi hồ sơ đang ở trạng thái '{here_vi}'; "
        f"có thể: {can_vi or 'không có'}",
        f"Cannot '{step_en}' while the nomination is '{here_en}'; possible: {can_en or 'none'}",
        {"state": state, "possible": possible},
    )
