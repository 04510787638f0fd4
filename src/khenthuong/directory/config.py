"""The directory settings (KHENTHUONG_LDAP_*, KHENTHUONG_OIDC_*) as client configurations."""

from __future__ import annotations

from pathlib import Path

from khenthuong.directory.ldap import LdapConfig
from khenthuong.directory.mapping import DirectoryMap, load_directory_map
from khenthuong.directory.oidc import OidcConfig
from khenthuong.settings import Settings


def ldap_config(settings: Settings) -> LdapConfig | None:
    if not settings.ldap_url:
        return None
    return LdapConfig(
        url=settings.ldap_url,
        user_base=settings.ldap_user_base,
        user_filter=settings.ldap_user_filter,
        bind_dn=settings.ldap_bind_dn,
        bind_password=(
            settings.ldap_bind_password.get_secret_value() if settings.ldap_bind_password else None
        ),
        group_base=settings.ldap_group_base,
        group_filter=settings.ldap_group_filter,
        start_tls=settings.ldap_start_tls,
    )


def oidc_config(settings: Settings) -> OidcConfig | None:
    if not (settings.oidc_issuer and settings.oidc_client_id):
        return None
    return OidcConfig(
        issuer=settings.oidc_issuer,
        client_id=settings.oidc_client_id,
        client_secret=(
            settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
        ),
        username_claim=settings.oidc_username_claim,
        groups_claim=settings.oidc_groups_claim,
    )


def map_file(settings: Settings) -> Path:
    return settings.directory_map_file or Path(settings.config_dir) / "directory.yaml"


def directory_map(settings: Settings, known_roles: set[str]) -> DirectoryMap:
    return load_directory_map(map_file(settings), known_roles)
