"""Names for the codes a page shows: units, officers, roles, awards, states and steps, in the
page's language. Looked up once per page (lazily) and never failing: an unknown code shows as
itself. Pages show the name and keep the code for a hover (`title`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from khenthuong.errors import KhenthuongError
from khenthuong.rules.catalog import catalog_in
from khenthuong.storage.db import reading
from khenthuong.storage.models import UNITS, USERS
from khenthuong.web.context import WebContext
from khenthuong.web.i18n import translate


@dataclass
class Names:
    """The names of one page's codes."""

    ctx: WebContext
    lang: str
    _units: dict[str, str] | None = None
    _users: dict[str, str] = field(default_factory=dict)

    def _text(self, text: Any) -> str:
        return str(text.en if self.lang == "en" else text.vi)

    def unit(self, code: str | None) -> str:
        """A unit's name (`CCYQD` → Cục Cơ yếu Quân đội)."""
        if not code:
            return ""
        if self._units is None:
            self._units = self.ctx.callers.get_or_load(("unit names",), self._unit_names)
        return self._units.get(code, code)

    def _unit_names(self) -> dict[str, str]:
        with reading(self.ctx.rt.engine) as conn:
            rows = conn.execute(select(UNITS.c.code, UNITS.c.name)).all()
        return {str(code): str(name) for code, name in rows}

    def user(self, username: str | None) -> str:
        """An officer's full name (`cb.qd` → Nguyễn …); the system's own steps as such."""
        if not username:
            return ""
        if username not in self._users:
            name = self.ctx.callers.get_or_load(
                ("full name", username), lambda: self._full_name(username)
            )
            self._users[username] = name or (
                translate("system", self.lang) if username == "system" else username
            )
        return self._users[username]

    def _full_name(self, username: str) -> str | None:
        with reading(self.ctx.rt.engine) as conn:
            name = conn.execute(
                select(USERS.c.full_name).where(USERS.c.username == username)
            ).scalar()
        return None if name is None else str(name)

    def role(self, code: str | None) -> str:
        """A role's title (`unit_officer` → Cán bộ thi đua đơn vị)."""
        if not code:
            return ""
        role = self.ctx.rt.roles.get(code)
        return self._text(role.title) if role is not None else code

    def award(self, code: str | None) -> str:
        """An award's name (`GIAY_KHEN` → Giấy khen)."""
        if not code:
            return ""
        try:
            award = catalog_in(self.ctx.rt.settings.config_dir).award(code)
        except KhenthuongError:
            return code
        return self._text(award.name)

    def workflow(self, name: str | None) -> str:
        """An award path's title."""
        if not name:
            return ""
        try:
            return self._text(self.ctx.rt.registry.get(name).definition.title)
        except KhenthuongError:
            return name

    def state(self, workflow: str | None, state: str | None, version: int | None = None) -> str:
        """A state's title in a workflow (the latest version unless given)."""
        if not state:
            return ""
        if not workflow:
            return state
        try:
            wf = self.ctx.rt.registry.get(workflow, version).definition
            return self._text(wf.state(state).title)
        except (KhenthuongError, KeyError):
            return state

    def step(self, workflow: str | None, trigger: str | None, version: int | None = None) -> str:
        """A step's title in a workflow (`submit` → Trình hồ sơ)."""
        if not trigger:
            return ""
        if trigger == "create":
            return translate("step_create", self.lang)
        if workflow:
            try:
                wf = self.ctx.rt.registry.get(workflow, version).definition
            except KhenthuongError:
                return trigger
            for transition in wf.transitions:
                if transition.trigger == trigger:
                    return self._text(transition.title)
        return translate("trigger_" + trigger, self.lang) if _known(trigger, self.lang) else trigger


def _known(trigger: str, lang: str) -> bool:
    return translate("trigger_" + trigger, lang) != "trigger_" + trigger
