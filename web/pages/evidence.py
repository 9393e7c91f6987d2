"""Evidence downloads (/evidence/{code}/{sha256}): a file an audit entry of the enterprise names, to a
person who may see that enterprise (the service judges the scope), always as an attachment with the
type detected at upload and `nosniff` (never rendered inline: it is user content)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import Request, get
from litestar.response import File, Template

from web.auth import signed_in
from web.errors import error_page
from web.state import blocking
from workflow.errors import IntegrityFailure, NotFound
from workflow.services import evidence

log = logging.getLogger("campaign.web")
BROKEN = "此佐证文件缺失或与审计记录的哈希不符，未提供下载；请联系省级管理员运行 campaign audit verify --files。"


def disposition(name: str) -> str:
    """`attachment` with an ASCII fallback name and the real one in RFC 5987 `filename*` (UTF-8)."""
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@get("/evidence/{code:str}/{sha256:str}", name="evidence")
async def download(request: Request[Any, Any, Any]) -> File | Template:
    code, sha = str(request.path_params["code"]), str(request.path_params["sha256"])
    me = await signed_in(request)
    try:
        name, media_type, path = await blocking(evidence.open_evidence, me.ctx, code, sha)
    except NotFound:
        return error_page(request, 404)
    except IntegrityFailure as exc:
        log.error("evidence download refused: %s", exc)
        return error_page(request, 500, BROKEN)
    return File(path=path, filename=name, media_type=media_type, content_disposition_type="attachment",
                headers={"content-disposition": disposition(name), "x-content-type-options": "nosniff",
                         "cache-control": "private, no-store"})


ROUTES = [download]
