from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema
from ninja.renderers import JSONRenderer

from ..parsing import JsonBodyParser
from ..problems import install, problem_media_type
from . import above_quota as above_quota_api
from . import campaigns, catalog_upload, readiness, sessions, staff_accounts
from . import commission as commission_api
from . import notifications as notification_reports
from .after_admission import router as after_admission
from .appeals import appeals
from .audit import audit
from .drafts import drafts
from .fraud import fraud
from .login import auth
from .reports import reports
from .routes import applicant, public
from .staff import staff
from .waitlist import waitlist


class Utf8JSONRenderer(JSONRenderer):
    """Kyrgyz and Russian text as UTF-8, not \\u escapes: a third of the bytes on slow networks."""

    json_dumps_params = {"ensure_ascii": False}


class KattooAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        openapi = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        problem_media_type(openapi)
        return openapi


api = KattooAPI(
    renderer=Utf8JSONRenderer(),
    parser=JsonBodyParser(),
    title="Kattoo API",
    version="1",
    description="First-grade registration for Kyrgyzstan's state and municipal schools "
    "(shared/spec/API.md). Errors are RFC 9457 problem documents.",
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
)
install(api)
api.add_router("", auth)
api.add_router("", public)
api.add_router("", applicant)
api.add_router("", staff)
api.add_router("", commission_api.router)
api.add_router("", above_quota_api.router)
api.add_router("", appeals)
api.add_router("", drafts)
api.add_router("", reports)
api.add_router("", waitlist)
api.add_router("", audit)
api.add_router("", fraud)
api.add_router("", campaigns.router)
api.add_router("", catalog_upload.router)
api.add_router("", staff_accounts.router)
api.add_router("", readiness.router)
api.add_router("", sessions.router)
api.add_router("", notification_reports.router)
api.add_router("", after_admission)
