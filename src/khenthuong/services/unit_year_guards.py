"""The guard `registered`: where the rule set in force requires a registration (đăng ký thi
đua, config/awards.yaml `registration`), the nominee must have registered for the title, or
for one of the titles that cover it, in the nomination year (services.registrations)."""

from __future__ import annotations

from khenthuong.errors import Refusal
from khenthuong.services import guards
from khenthuong.services.guard_facts import award_code_of, submitted_on
from khenthuong.services.registrations import registered_codes
from khenthuong.workflow.guards import GuardContext, guard


@guard("registered")
def registered(ctx: GuardContext) -> Refusal | None:
    """The nominee registered for the title in the nomination year, if the rules ask it."""
    nom = ctx.nomination
    # One catalog for every guard: read through `guards`, where tests replace it.
    catalog = guards._catalog()  # type: ignore[attr-defined]
    code = award_code_of(nom, catalog)
    if code is None:
        return None
    on = submitted_on(ctx)
    rule = guards._rules_on(catalog, code, on, nom["unit_path"])
    if isinstance(rule, Refusal):
        return rule
    needed = rule.registration
    if needed is None or not needed.required:
        return None
    year = nom["year"]
    person, unit = nom["nominee_person_id"], nom["nominee_unit_id"]
    accepted = {code, *needed.covered_by}
    if registered_codes(ctx.connection, year, person, unit) & accepted:
        return None
    award = catalog.award(code)
    also = [catalog.award(c).name.vi for c in needed.covered_by]
    or_vi = f" (hoặc {', '.join(also)})" if also else ""
    return Refusal(
        "registered",
        f"{nom['nominee_name']} chưa đăng ký thi đua danh hiệu {award.name.vi}{or_vi} năm "
        f"{year}: thiếu đăng ký thi đua của {nom['nominee_name']} cho {award.name.vi} năm "
        f"{year} (căn cứ: {needed.source or rule.source})",
        f"{nom['nominee_name']} has no registration for {award.name.en} in {year}",
        {"award": code, "year": year, "unregistered": True},  # each interface says where
    )
