"""OpenID Connect sign-in: authorisation code flow with PKCE (RFC 7636, S256).

Authlib builds the challenge and the random values; joserfc checks the ID token's signature
against the provider's published keys, and its issuer, audience, expiry and nonce. The
provider's metadata comes from `<issuer>/.well-known/openid-configuration`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from khenthuong.directory.identity import DirectoryIdentity, DirectoryUnavailable


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str | None
    scopes: str = "openid profile email"
    username_claim: str = "preferred_username"
    groups_claim: str = "groups"
    timeout_seconds: int = 10


@dataclass(frozen=True)
class PendingSignIn:
    """What the browser carries (signed) between leaving for the provider and coming back."""

    state: str
    nonce: str
    verifier: str


_METADATA: dict[str, tuple[float, dict[str, Any]]] = {}
_METADATA_SECONDS = 300.0


def metadata(cfg: OidcConfig) -> dict[str, Any]:
    """The provider's discovery document (kept five minutes)."""
    import httpx  # noqa: PLC0415

    cached = _METADATA.get(cfg.issuer)
    if cached and time.monotonic() - cached[0] < _METADATA_SECONDS:
        return cached[1]
    url = cfg.issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = httpx.get(url, timeout=cfg.timeout_seconds)
        response.raise_for_status()
        data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise DirectoryUnavailable(f"OpenID provider metadata {url}: {exc}") from exc
    _METADATA[cfg.issuer] = (time.monotonic(), data)
    return dict(data)


def start(cfg: OidcConfig, redirect_uri: str) -> tuple[str, PendingSignIn]:
    """The provider's authorisation URL to send the browser to, and what to keep meanwhile."""
    pending = PendingSignIn(
        state=generate_token(32), nonce=generate_token(32), verifier=generate_token(64)
    )
    query = urlencode(
        {
            "response_type": "code",
            "client_id": cfg.client_id,
            "redirect_uri": redirect_uri,
            "scope": cfg.scopes,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": create_s256_code_challenge(pending.verifier),  # type: ignore[no-untyped-call]
            "code_challenge_method": "S256",
        }
    )
    return f"{metadata(cfg)['authorization_endpoint']}?{query}", pending


def finish(
    cfg: OidcConfig, pending: PendingSignIn, code: str, redirect_uri: str
) -> DirectoryIdentity:
    """Exchange the code (with the PKCE verifier) and check the ID token; the identity it names.

    Raises DirectoryUnavailable when the provider cannot be reached, and ValueError when the
    answer is not acceptable (bad signature, wrong audience or nonce, expired)."""
    import httpx  # noqa: PLC0415

    meta = metadata(cfg)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": pending.verifier,
        "client_id": cfg.client_id,
    }
    auth = (cfg.client_id, cfg.client_secret) if cfg.client_secret else None
    try:
        answer = httpx.post(
            meta["token_endpoint"], data=form, auth=auth, timeout=cfg.timeout_seconds
        )
        if answer.status_code >= 500:
            answer.raise_for_status()
        tokens = answer.json()
        keys = httpx.get(meta["jwks_uri"], timeout=cfg.timeout_seconds).json()
    except (httpx.HTTPError, ValueError) as exc:
        raise DirectoryUnavailable(f"OpenID provider {cfg.issuer}: {exc}") from exc
    if answer.status_code != 200 or "id_token" not in tokens:
        raise ValueError(f"token endpoint refused the code: {tokens.get('error', answer.text)}")
    try:
        token = jwt.decode(tokens["id_token"], KeySet.import_key_set(keys))
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": meta.get("issuer", cfg.issuer)},
            aud={"essential": True, "value": cfg.client_id},
            exp={"essential": True},
            nonce={"essential": True, "value": pending.nonce},
            sub={"essential": True},
        ).validate(token.claims)
    except JoseError as exc:
        raise ValueError(f"ID token rejected: {exc}") from exc
    claims: dict[str, Any] = dict(token.claims)
    if (
        cfg.groups_claim not in claims
        and meta.get("userinfo_endpoint")
        and tokens.get("access_token")
    ):
        try:
            info = httpx.get(
                meta["userinfo_endpoint"],
                headers={"Authorization": f"Bearer {tokens['access_token']}"},
                timeout=cfg.timeout_seconds,
            ).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DirectoryUnavailable(f"OpenID userinfo {cfg.issuer}: {exc}") from exc
        if info.get("sub") == claims["sub"]:
            claims = {**info, **claims}
    groups = claims.get(cfg.groups_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    username = str(claims.get(cfg.username_claim) or claims.get("email") or claims["sub"])
    return DirectoryIdentity(
        source="oidc",
        subject=str(claims["sub"]),
        username=username.strip().lower(),
        full_name=str(claims.get("name") or username),
        email=str(claims.get("email") or ""),
        groups=tuple(str(g) for g in groups),
    )
