"""Sign-in against an LDAP directory with ldap3: find the entry, bind as it, read its groups.

The search runs with the service account (`KHENTHUONG_LDAP_BIND_DN`) or anonymously; the
password is checked by binding as the person's own entry, so khenthuong never sees a hash. An
account the directory disables fails that bind (OpenLDAP's ppolicy lock, Active Directory's
disabled flag) or is left out by `KHENTHUONG_LDAP_USER_FILTER`.
"""

from __future__ import annotations

from dataclasses import dataclass

import ldap3
from ldap3.core.exceptions import LDAPException, LDAPSocketOpenError
from ldap3.utils.conv import escape_filter_chars

from khenthuong.directory.identity import DirectoryIdentity, DirectoryUnavailable


@dataclass(frozen=True)
class LdapConfig:
    url: str
    user_base: str
    user_filter: str = "(uid={username})"
    bind_dn: str | None = None
    bind_password: str | None = None
    group_base: str | None = None
    group_filter: str = "(|(member={dn})(uniqueMember={dn}))"
    start_tls: bool = False
    timeout_seconds: int = 5
    name_attribute: str = "cn"
    mail_attribute: str = "mail"


def _first(entry: ldap3.Entry, attribute: str) -> str:
    values = entry.entry_attributes_as_dict.get(attribute) or []
    return str(values[0]) if values else ""


def _connection(cfg: LdapConfig, user: str | None, password: str | None) -> ldap3.Connection:
    server = ldap3.Server(cfg.url, connect_timeout=cfg.timeout_seconds, get_info=ldap3.NONE)
    conn = ldap3.Connection(
        server, user=user, password=password, receive_timeout=cfg.timeout_seconds,
        raise_exceptions=False,
    )  # fmt: skip
    conn.open()
    if cfg.start_tls:
        conn.start_tls()
    return conn


def authenticate(cfg: LdapConfig, username: str, password: str) -> DirectoryIdentity | None:
    """The person's identity when the directory accepts the password; None when it does not
    (unknown name, several entries, wrong password, disabled account).

    Raises DirectoryUnavailable when the server cannot be reached or the service bind fails."""
    if not username or not password:
        return None  # an empty password would be an anonymous bind, which always "succeeds"
    try:
        service = _connection(cfg, cfg.bind_dn, cfg.bind_password)
        if not service.bind():
            raise DirectoryUnavailable(
                f"LDAP service bind as {cfg.bind_dn or 'anonymous'} refused: {service.result}"
            )
        query = cfg.user_filter.format(username=escape_filter_chars(username))
        service.search(
            cfg.user_base, query, attributes=[cfg.name_attribute, cfg.mail_attribute, "memberOf"]
        )
        entries = list(service.entries)
        if len(entries) != 1:
            service.unbind()
            return None
        entry = entries[0]
        dn = str(entry.entry_dn)
        personal = _connection(cfg, dn, password)
        accepted = bool(personal.bind())
        personal.unbind()
        if not accepted:
            service.unbind()
            return None
        groups = [str(g) for g in entry.entry_attributes_as_dict.get("memberOf", [])]
        if cfg.group_base:
            service.search(
                cfg.group_base, cfg.group_filter.format(dn=escape_filter_chars(dn)),
                attributes=["cn"],
            )  # fmt: skip
            for group in service.entries:
                groups.append(str(group.entry_dn))
                groups.extend(str(cn) for cn in group.entry_attributes_as_dict.get("cn", []))
        service.unbind()
    except LDAPSocketOpenError as exc:
        raise DirectoryUnavailable(f"LDAP server {cfg.url} unreachable: {exc}") from exc
    except LDAPException as exc:
        raise DirectoryUnavailable(f"LDAP error at {cfg.url}: {exc}") from exc
    return DirectoryIdentity(
        source="ldap",
        subject=dn,
        username=username,
        full_name=_first(entry, cfg.name_attribute) or username,
        email=_first(entry, cfg.mail_attribute),
        groups=tuple(dict.fromkeys(groups)),
    )
