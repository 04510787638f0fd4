"""Who the directory says a person is: the identity both LDAP and OpenID Connect produce."""

from __future__ import annotations

from dataclasses import dataclass, field

from khenthuong.errors import KhenthuongError


@dataclass(frozen=True)
class DirectoryIdentity:
    """A person the directory vouched for, with the groups it lists for them."""

    source: str
    """'ldap' or 'oidc'."""
    subject: str
    """The directory's stable id: the LDAP entry's DN, or the OpenID provider's `sub`."""
    username: str
    full_name: str
    email: str
    groups: tuple[str, ...] = field(default_factory=tuple)


class DirectoryUnavailable(KhenthuongError):
    """The directory (LDAP server or OpenID provider) could not be reached or answered badly."""


class DirectorySignInRefused(KhenthuongError):
    """The directory vouched for the person, but khenthuong refuses the sign-in (no role
    mapped, a local account of the same name with its own password, an account disabled here).

    `key` names the message in the web's gettext catalogs (`directory_no_role`, …) and
    `values` fill its placeholders: the page shows it in the officer's language."""

    def __init__(self, key: str, **values: str) -> None:
        self.key = key
        self.values = values
        super().__init__(f"{key}: " + ", ".join(f"{k}={v}" for k, v in values.items()))
