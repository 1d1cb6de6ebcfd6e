"""The portal's settings (environment, prefix ``THIDUA_``), beside the platform's own (the token secret or
JWKS the services use)."""

from typing import Any

from pydantic import Field

from shared.settings import Settings


class PortalSettings(Settings):
    service: str = "portal"
    portal_url: str = "http://127.0.0.1:8100"  # where browsers reach the portal (OIDC redirect URI base)

    # Where the services answer (commands and their own queries) and where each level is read:
    # ``level_hosts`` maps a service to a URL template with {level}, or to {level: base URL}.
    directory_url: str = "http://127.0.0.1:8101"
    registry_url: str = "http://127.0.0.1:8102"
    pledges_url: str = "http://127.0.0.1:8103"
    inspections_url: str | None = None
    awards_url: str | None = None
    level_hosts: dict[str, Any] = Field(default_factory=dict)
    levels: list[str] = Field(default_factory=list)  # the levels the templated hosts serve (THIDUA_LEVELS)

    # Sign-in: the demo users of a local run, or an OpenID Connect issuer (production).
    demo_sign_in: bool = False
    oidc_issuer: str | None = None
    oidc_client_id: str = "thidua-portal"
    oidc_client_secret: str | None = None

    # The public page reads with an identity of its own (a read-only city account); locally a demo token.
    public_token: str | None = None
    public_level: str = "hn"

    session_ttl_seconds: int = 8 * 3600
    cookie_secure: bool = False  # true behind HTTPS: the session cookie is then never sent in clear

    # Book exports larger than this run in the background with progress and a link when ready.
    export_inline_rows: int = 2000
    export_dir: str = ""  # default: a temporary folder

    def service_urls(self) -> dict[str, str]:
        urls = {
            "directory": self.directory_url,
            "registry": self.registry_url,
            "pledges": self.pledges_url,
            "inspections": self.inspections_url,
            "awards": self.awards_url,
        }
        return {name: url for name, url in urls.items() if url}
