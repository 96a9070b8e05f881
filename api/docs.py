"""/docs: Swagger UI with its script and stylesheet served from the swagger-ui-bundle package,
so the page works on a machine with no way out to a CDN."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from api.ratelimit import rate_limited
from api.responses import SafeJSONResponse

ASSETS = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8",
          "swagger-ui.css": "text/css; charset=utf-8",
          "favicon-32x32.png": "image/png"}

router = APIRouter(include_in_schema=False, dependencies=[Depends(rate_limited("pages"))])


def assets_dir() -> Path:
    import swagger_ui_bundle

    return Path(swagger_ui_bundle.swagger_ui_path)


@router.get("/openapi.json")
def openapi_document(request: Request) -> SafeJSONResponse:
    """The schema; with NEWSQA_READ_KEYS_REQUIRED, the reads show the key scheme too."""
    document = copy.deepcopy(request.app.openapi())
    if request.app.state.access.read_keys_required:
        for path, operations in document["paths"].items():
            for operation in operations.values():
                if path != "/healthz":
                    operation.setdefault("security", [{"apiKey": []}])
    return SafeJSONResponse(document)


@router.get("/docs")
def swagger_page() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="newsqa API",
                               swagger_js_url="/docs/assets/swagger-ui-bundle.js",
                               swagger_css_url="/docs/assets/swagger-ui.css",
                               swagger_favicon_url="/docs/assets/favicon-32x32.png")


@router.get("/docs/assets/{name}")
def swagger_asset(name: Annotated[str, "one of ASSETS"]) -> FileResponse:
    if name not in ASSETS:
        raise HTTPException(404, f"no docs asset {name[:60]!r}; the page loads "
                                 f"{', '.join(sorted(ASSETS))}")
    return FileResponse(assets_dir() / name, media_type=ASSETS[name],
                        headers={"Cache-Control": "max-age=86400"})
