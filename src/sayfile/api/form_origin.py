"""Whether a form post came from sayfile's own page: forms posted from another site's page
are refused (403 `cross_site_form`), before their fields are read."""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

from fastapi import Request

from sayfile.api.proxies import forwarded_hosts
from sayfile.errors import CrossSiteForm

_DEFAULT_PORTS = {"http": 80, "https": 443}


def refuse_cross_site(request: Request) -> None:
    """Raises CrossSiteForm for a form posted from another site's page.

    Browsers say where a request comes from in `Sec-Fetch-Site`, which no page's script can
    set and proxies pass on: `same-origin` (and `none`, a request the user made) is believed
    whatever Host a proxy sends, `same-site` and `cross-site` are refused. A browser without
    it (Safari before 16.4) sends only `Origin`, which must name the host the browser asked
    for: `Host`, or `X-Forwarded-Host` from a trusted proxy, default ports alike
    (`https://a.example` is `a.example:443`). `Origin: null` (the page's own posts, as it
    sends no referrer) and requests with neither header (curl) pass."""
    site = request.headers.get("sec-fetch-site")
    if site in ("same-origin", "none"):
        return
    if site is not None:
        raise CrossSiteForm()
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return
    parts = urlsplit(origin)
    asked = [request.headers.get("host", ""), *forwarded_hosts(request)]
    sent_from = _authority(parts, parts.scheme)
    if sent_from is None or sent_from not in {_authority(_host(h), parts.scheme) for h in asked}:
        raise CrossSiteForm()


def _host(header: str) -> SplitResult:
    return urlsplit(f"//{header}")


def _authority(parts: SplitResult, scheme: str) -> tuple[str, int] | None:
    """(host, port) of a URL's or Host header's parts, the port the scheme's default when
    none is written; None when it has no host or its port is no number."""
    try:
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.hostname, port if port is not None else _DEFAULT_PORTS.get(scheme, 0)
