"""Where the client's requests go: the service root and the `/v1/...` paths under it."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

API_VERSION = "/v1"


def service_root(base_url: str) -> str:
    """The URL the `/v1/...` paths are appended to.

    Every docs example writes the base as `https://api.sequin.io/v1/...`, so people paste a
    base ending in `/v1` (or `/v1/`); it is accepted rather than doubled into `/v1/v1/`.
    """
    root = base_url.strip().rstrip("/")
    if root.endswith(API_VERSION):
        root = root[: -len(API_VERSION)]
    return root


def unexpected_path(base_url: str) -> str | None:
    """The path of a base URL that is neither the root nor `/v1`; None when it is one of them.

    Such a path is kept (a proxy may serve Sequin under a prefix) but is usually a mistake,
    such as a pasted endpoint: `/v1/syncs` would make every request `/v1/syncs/v1/...`.
    """
    path = urlsplit(base_url.strip()).path.rstrip("/")
    return None if path in ("", API_VERSION) else path


def api_path(*parts: str) -> str:
    """`/v1/<part>/<part>`, each part quoted whole: an id holding `/`, `?` or `#` stays one
    path segment and can neither reach another endpoint nor start a query."""
    return API_VERSION + "".join("/" + quote(part, safe="") for part in parts)
