"""The widget bundle and its demo page: `/` (the demo), `/widget.js`, `/widget.css`, `/demo.js`.

The demo page gets a strict Content-Security-Policy: only this origin's scripts, styles, images
and connections, no inline script, no plugins, no framing. Even if an article's text reached the
page as markup, it could not run code or load anything from elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from api.ratelimit import rate_limited

STATIC = Path(__file__).resolve().parent / "static"
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
COMMON = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
ASSETS = {"widget.js": "text/javascript; charset=utf-8",
          "widget.css": "text/css; charset=utf-8",
          "demo.js": "text/javascript; charset=utf-8"}

router = APIRouter(include_in_schema=False, dependencies=[Depends(rate_limited("pages"))])


@router.get("/")
def demo_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8",
                        headers={**COMMON, "Content-Security-Policy": PAGE_CSP,
                                 "Referrer-Policy": "no-referrer"})


def _asset_route(name: str, media_type: str) -> None:
    def asset() -> FileResponse:
        return FileResponse(STATIC / name, media_type=media_type, headers=COMMON)

    router.add_api_route(f"/{name}", asset, methods=["GET"], name=f"asset_{name}")


for _name, _media in ASSETS.items():
    _asset_route(_name, _media)
