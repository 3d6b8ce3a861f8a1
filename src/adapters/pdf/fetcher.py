"""The only way a document reaches bytes it does not contain: ``data:`` URIs and named assets.

WeasyPrint asks its URL fetcher for every image, stylesheet, ``@import``, font, attachment and
SVG reference. ``AssetUrlFetcher`` answers ``data:`` URIs (decoded here, size-capped) and
``istmo-asset:<sha256>/<name>`` from the assets the caller passed in (the digest must match);
every other scheme (``file:``, ``http(s):``, ``ftp:``, anything) is refused before any I/O, so
there is nothing to redirect.
No urllib handler is installed at all: even a bug in the routing below cannot open a socket.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

from weasyprint.urls import URLFetcher, URLFetcherResponse

from adapters.pdf import digests
from adapters.pdf.html import ASSET_SCHEME
from application.pdf.documents import ASSET_MIMES, PdfAsset

MAX_DATA_URI_BYTES = 10 * 1024 * 1024


class FetchRefused(ValueError):
    """A URL the document may not load. WeasyPrint logs it and renders without the resource."""


class AssetUrlFetcher(URLFetcher):
    """Resolves ``data:`` and ``istmo-asset:`` URLs; refuses (raises) everything else.

    ``refused`` lists the URLs that were refused, for logging and for the security tests.
    """

    def __init__(self, assets: Mapping[str, PdfAsset] | None = None) -> None:
        # Deliberately not URLFetcher.__init__: it installs the file, HTTP(S), FTP and redirect
        # handlers of urllib. Only the attributes WeasyPrint reads are set.
        self._assets = {
            name: (digests.sha256(asset.data).hex(), asset)
            for name, asset in (assets or {}).items()
            if asset.mime in ASSET_MIMES
        }
        self._fail_on_errors = False
        self._timeout = 0
        self._allowed_protocols = ("data", ASSET_SCHEME)
        self.refused: list[str] = []

    def serves(self, url: str) -> bool:
        """Whether this document may load ``url``: a ``data:`` URI, or one of its own assets."""
        scheme, _, rest = url.partition(":")
        scheme = scheme.strip().lower()
        if scheme == "data":
            return True
        if scheme != ASSET_SCHEME:
            return False
        digest, _, name = rest.split("#")[0].partition("/")
        known = self._assets.get(unquote_to_bytes(name).decode("utf-8", "replace"))
        return known is not None and known[0] == digest

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        scheme, _, rest = url.partition(":")
        scheme = scheme.strip().lower()
        if scheme == "data":
            return self._data(url, rest)
        if scheme == ASSET_SCHEME:
            if self.serves(url):
                _, _, name = rest.split("#")[0].partition("/")
                asset = self._assets[unquote_to_bytes(name).decode("utf-8", "replace")][1]
                return URLFetcherResponse(url, asset.data, {"Content-Type": asset.mime})
            self.refused.append(url[:200])
            raise FetchRefused(f"no asset {rest[:80]!r} was given to this document")
        self.refused.append(url[:200])
        raise FetchRefused(f"URL scheme {scheme[:16]!r} is not allowed in documents")

    def open(self, url: object, data: object = None, timeout: object = None) -> URLFetcherResponse:
        full_url = getattr(url, "full_url", url)
        return self.fetch(str(full_url))

    def __call__(self, url: str) -> URLFetcherResponse:
        return self.fetch(url)

    def _data(self, url: str, rest: str) -> URLFetcherResponse:
        header, comma, payload = rest.partition(",")
        if not comma:
            raise FetchRefused("malformed data: URI")
        if len(payload) > MAX_DATA_URI_BYTES * 4 // 3 + 4:
            raise FetchRefused(f"data: URI over {MAX_DATA_URI_BYTES} bytes")
        params = [part.strip() for part in header.split(";")]
        is_base64 = bool(params) and params[-1].lower() == "base64"
        if is_base64:
            params.pop()
        mime = params[0] if params and params[0] else "text/plain"
        try:
            body = base64.b64decode(unquote_to_bytes(payload)) if is_base64 else unquote_to_bytes(payload)
        except (binascii.Error, ValueError) as error:
            raise FetchRefused(f"malformed data: URI: {error}") from None
        headers = {"Content-Type": ";".join([mime, *params[1:]])}
        return URLFetcherResponse(url, body, headers)


class DocumentImageCache(dict):  # type: ignore[type-arg]
    """The image cache a worker keeps across renders, as one document may see it.

    WeasyPrint looks an image up by its URL in the cache before it asks the URL fetcher, and
    caches a failed load as ``None``. Through this view a document finds only the images of URLs
    its own fetcher serves (``data:`` URIs and its own assets, by digest), so no tenant draws
    another's logo by naming its URL; and a failure is never kept, so no tenant can make another's
    logo fail to load. Other keys (an image's data, keyed by WeasyPrint) pass through."""

    def __init__(self, shared: dict[str, Any], fetcher: AssetUrlFetcher) -> None:
        super().__init__()
        self._shared = shared
        self._fetcher = fetcher

    def _visible(self, key: str) -> bool:
        return ":" not in key or self._fetcher.serves(key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._visible(key) and key in self._shared

    def __getitem__(self, key: str) -> Any:
        if not self._visible(key):
            raise KeyError(key)
        return self._shared[key]

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return self[key] if key in self else default

    def __setitem__(self, key: str, value: Any) -> None:
        if self._visible(key) and not (value is None and ":" in key):
            self._shared[key] = value

    def __len__(self) -> int:
        return len(self._shared)
