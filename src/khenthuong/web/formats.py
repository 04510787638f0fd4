"""The number, money, percentage and date formats (khenthuong.formats) as Jinja filters
reading the page's language."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from khenthuong.formats import day, moment, money, number, percent


def install(env: Environment) -> None:
    """Register the formats as filters reading the page's `lang`."""

    def bind(func: Any) -> Any:
        @pass_context
        def apply(context: Context, value: Any) -> str:
            result: str = func(value, context.get("lang", "vi"))
            return result

        return apply

    for name, func in (
        ("number", number), ("money", money), ("percent", percent), ("day", day),
        ("moment", moment),
    ):  # fmt: skip
        env.filters[name] = bind(func)
