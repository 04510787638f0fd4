"""Directory sign-in behind the ordinary sign-in form (LDAP) and the account provisioning
both directory paths share; no page code here, so the sign-in handler can import it."""

from __future__ import annotations

import logging

from khenthuong.directory import ldap
from khenthuong.directory.config import directory_map, ldap_config
from khenthuong.directory.identity import (
    DirectoryIdentity,
    DirectorySignInRefused,
    DirectoryUnavailable,
)
from khenthuong.services import directory_accounts
from khenthuong.storage.db import write_tx
from khenthuong.web.context import WebContext
from khenthuong.web.i18n import translate

log = logging.getLogger(__name__)


def provision(ctx: WebContext, identity: DirectoryIdentity) -> str:
    mapping = directory_map(ctx.rt.settings, set(ctx.rt.roles))
    with write_tx(ctx.rt.engine) as conn:
        return directory_accounts.sign_in(conn, identity, mapping, ctx.rt.roles)


def refusal_text(exc: DirectorySignInRefused, lang: str) -> str:
    """A directory refusal in the officer's language (the gettext catalogs)."""
    return translate(exc.key, lang, **exc.values)


def ldap_sign_in(
    ctx: WebContext, username: str, password: str, lang: str = "vi"
) -> tuple[bool, str | None]:
    """(signed in, refusal shown to the officer in `lang`). Runs in a worker thread (network
    calls)."""
    cfg = ldap_config(ctx.rt.settings)
    if cfg is None:
        return False, None
    try:
        identity = ldap.authenticate(cfg, username, password)
    except DirectoryUnavailable as exc:
        log.error("LDAP sign-in of %s: %s", username, exc)
        return False, None
    if identity is None:
        return False, None
    try:
        provision(ctx, identity)
    except DirectorySignInRefused as exc:
        return False, refusal_text(exc, lang)
    return True, None
