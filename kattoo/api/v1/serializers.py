"""Model → API dictionaries. Names in the applicant's language where the catalog has them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import campaign_quota_lock_at, campaign_stage
from kattoo.catalog.models import School
from kattoo.catalog.selectors import AddressMatch, localized_name
from kattoo.core import clock
from kattoo.core.clock import BISHKEK
from kattoo.core.errors import refusal_message
from kattoo.enrollment.abilities import Abilities
from kattoo.enrollment.eligibility import Refusal
from kattoo.enrollment.fastpath import NewRegistration
from kattoo.enrollment.models import Application, SeatPool, Status
from kattoo.enrollment.receipts import application_number, number_of
from kattoo.enrollment.selectors import ChildStanding
from kattoo.people.models import GuardianAct, Person


def local(moment: dt.datetime | None) -> dt.datetime | None:
    """Times go out in Asia/Bishkek with their offset (RFC 3339), as people there read them."""
    return moment.astimezone(BISHKEK) if moment is not None else None


def campaign_out(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.code,
        "academic_year": campaign.academic_year,
        "title": campaign.title,
        "birth_from": campaign.birth_from,
        "birth_to": campaign.birth_to,
        "stages": {
            "stage1_starts_at": local(campaign.stage1_starts_at),
            "stage2_starts_at": local(campaign.stage2_starts_at),
            "registration_ends_at": local(campaign.registration_ends_at),
        },
        "quota_lock_at": local(campaign_quota_lock_at(campaign)),
        "current_stage": str(campaign_stage(campaign)),
        "server_time": local(clock.now()),
        "limits": {
            "cancel_limit": campaign.cancel_limit,
            "guardian_child_limit": campaign.guardian_child_limit,
            "class_size_min": campaign.class_size_min,
            "class_size_max": campaign.class_size_max,
            "appeal_due_working_days": campaign.appeal_due_working_days,
        },
        "documents_request_until": campaign.documents_request_until,
        "medical_from": campaign.medical_from,
        "medical_until": campaign.medical_until,
    }


def me_out(person: Person) -> dict[str, Any]:
    return {
        "id": str(person.pk),
        "pin": person.pin,
        "surname": person.surname,
        "name": person.name,
        "patronymic": person.patronymic,
        "sex": person.sex,
        "birth_date": person.birth_date,
        "address": {
            "text": person.address_text,
            "settlement": person.address_settlement_code,
            "street": person.address_street_code,
            "house": person.address_house,
            "flat": person.address_flat,
        },
        "language": person.user.language if hasattr(person, "user") else "ky",
        "phone": person.phone,
        "email": person.email,
        "verified_at": local(person.fetched_at),
        "xroad_id": person.xroad_id,
    }


def reason_out(refusal: Refusal) -> dict[str, str]:
    """The stable code (API.md) and the sentence of ``core/errors.py`` for its variant."""
    return {"code": refusal.code, "message": refusal_message(refusal.code, refusal.variant)}


def child_out(standing: ChildStanding) -> dict[str, Any]:
    child = standing.link.child
    active = standing.active_application
    return {
        "id": str(child.pk),
        "pin": child.pin,
        "surname": child.surname,
        "name": child.name,
        "patronymic": child.patronymic,
        "sex": child.sex,
        "birth_date": child.birth_date,
        "relation": standing.link.relation,
        "eligible": standing.eligible,
        "reasons": [reason_out(refusal) for refusal in standing.refusals],
        "active_application": None
        if active is None
        else {
            "id": str(active.pk),
            "school": str(active.school_id),
            "school_name": localized_name(active.school, "name"),
            "language": active.language,
            "status": active.status,
            "position": active.position,
        },
        "cancellations_left": standing.cancellations_left,
    }


def pool_out(pool: SeatPool) -> dict[str, Any]:
    return {
        "language": pool.language,
        "capacity": pool.capacity,
        "taken": pool.taken,
        "free": pool.free,
    }


def school_out(school: School, pools: list[SeatPool]) -> dict[str, Any]:
    return {
        "id": str(school.pk),
        "code": school.code,
        "name": localized_name(school, "name"),
        "name_ky": school.name_ky,
        "name_ru": school.name_ru,
        "address": localized_name(school, "address"),
        "address_ky": school.address_ky,
        "address_ru": school.address_ru,
        "district": localized_name(school.district, "name"),
        "ownership": school.ownership,
        "languages": [p.language for p in pools],
        "pools": [pool_out(p) for p in pools],
    }


def application_out(
    application: Application, abilities: Abilities, *, language: str | None = None
) -> dict[str, Any]:
    """``abilities`` from ``enrollment.abilities``: the list, the detail and the web page show
    what the cancel service itself would accept. The school's name is in the active language,
    or in ``language`` when given (the slim submit's, which activates none: kattoo/api/hot.py)."""
    return {
        "id": str(application.pk),
        "child": str(application.child_id),
        "child_name": f"{application.child.surname} {application.child.name}",
        "school": str(application.school_id),
        "school_name": localized_name(application.school, "name", language=language),
        "language": application.language,
        "status": application.status,
        "route": application.route,
        "above_quota": application.above_quota,
        "position": application.position,
        "created_at": local(application.created_at),
        "status_changed_at": local(application.status_changed_at),
        "history": [
            {
                "from_status": t.from_status,
                "to_status": t.to_status,
                "at": local(t.at),
                "reason": t.reason,
            }
            for t in application.transitions.all()
        ],
        "abilities": abilities.as_dict(),
        "cancellations_left": abilities.cancellations_left,
        # The number the web page and the PDF receipt show (issue 14; a field added, API.md).
        "number": application_number(application),
    }


def registration_out(
    new: NewRegistration, abilities: Abilities, *, language: str | None = None
) -> dict[str, Any]:
    """``application_out`` of the registration the opening minute's statement is about to
    write (``enrollment.fastpath``), built from what it writes instead of from an unsaved
    application, its first transition and their related managers (issue 15): the same body,
    key for key and value for value (tests/api/test_registration_out.py). Its three moments are
    one object, which the answer's encoder converts once (kattoo/api/hot.py)."""
    at = local(new.at)
    application_id = str(new.id)
    registered = Status.REGISTERED.value
    return {
        "id": application_id,
        "child": str(new.child.pk),
        "child_name": f"{new.child.surname} {new.child.name}",
        "school": str(new.school.pk),
        "school_name": localized_name(new.school, "name", language=language),
        "language": new.language,
        "status": registered,
        "route": new.route,
        "above_quota": new.above_quota,
        "position": 0,  # the statement's: the caller writes it in
        "created_at": at,
        "status_changed_at": at,
        "history": [
            {"from_status": "", "to_status": registered, "at": at, "reason": ""},
        ],
        "abilities": abilities.as_dict(),
        "cancellations_left": abilities.cancellations_left,
        "number": number_of(application_id),
    }


def guardian_act_out(act: GuardianAct) -> dict[str, Any]:
    return {
        "id": str(act.pk),
        "kind": act.kind,
        "number": act.number,
        "status": act.status,
        "uploaded_at": local(act.uploaded_at),
        "reviewed_at": local(act.reviewed_at),
        "review_note": act.review_note,
    }


def address_match_out(match: AddressMatch) -> dict[str, Any]:
    return {
        "street": match.street.code,
        "street_name": localized_name(match.street, "name"),
        "settlement": localized_name(match.street.settlement, "name"),
        "house": match.house,
        "schools": [
            {"id": str(s.pk), "code": s.code, "name": localized_name(s, "name")}
            for s in match.schools
        ],
    }
