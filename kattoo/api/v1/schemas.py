from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Schema
from pydantic import Field

__all__ = ["Field", "Schema"]

LanguageCode = Literal["ky", "ru", "uz", "tg", "en"]


class ReasonOut(Schema):
    code: str
    message: str


class StageTimes(Schema):
    stage1_starts_at: dt.datetime
    stage2_starts_at: dt.datetime
    registration_ends_at: dt.datetime


class CampaignLimits(Schema):
    cancel_limit: int
    guardian_child_limit: int
    class_size_min: int
    class_size_max: int
    appeal_due_working_days: int


class CampaignOut(Schema):
    id: str
    academic_year: str
    title: str
    birth_from: dt.date
    birth_to: dt.date
    stages: StageTimes
    quota_lock_at: dt.datetime
    current_stage: str
    server_time: dt.datetime
    limits: CampaignLimits
    documents_request_until: dt.date
    medical_from: dt.date
    medical_until: dt.date


class AddressOut(Schema):
    text: str
    settlement: str
    street: str
    house: str
    flat: str


class MeOut(Schema):
    id: str
    pin: str
    surname: str
    name: str
    patronymic: str
    sex: str
    birth_date: dt.date
    address: AddressOut
    language: str
    phone: str
    email: str
    verified_at: dt.datetime
    xroad_id: str


class ApplicationBrief(Schema):
    id: str
    school: str
    school_name: str
    language: str
    status: str
    position: int


class ChildOut(Schema):
    id: str
    pin: str
    surname: str
    name: str
    patronymic: str
    sex: str
    birth_date: dt.date
    relation: str
    eligible: bool
    reasons: list[ReasonOut]
    active_application: ApplicationBrief | None
    cancellations_left: int


class BirthCertificateIn(Schema):
    series: str = Field(min_length=1, max_length=16)
    number: str = Field(pattern=r"^[0-9]{6,7}$")


class ChildLinkIn(Schema):
    pin: str = Field(min_length=1, max_length=32)
    birth_certificate: BirthCertificateIn


class PoolOut(Schema):
    language: str
    capacity: int
    taken: int
    free: int


class SchoolOut(Schema):
    id: str
    code: str
    name: str = Field(description="in the request's language")
    name_ky: str
    name_ru: str
    address: str = Field(description="in the request's language")
    address_ky: str
    address_ru: str
    district: str
    ownership: str
    languages: list[str]
    pools: list[PoolOut]


class SchoolPage(Schema):
    items: list[SchoolOut]
    next_cursor: str | None


class ApplicationIn(Schema):
    child: str = Field(min_length=1, max_length=32)
    school: str = Field(min_length=1, max_length=32)
    language: LanguageCode


class TransitionOut(Schema):
    from_status: str
    to_status: str
    at: dt.datetime
    reason: str


class ApplicationOut(Schema):
    id: str
    child: str
    child_name: str
    school: str
    school_name: str
    language: str
    status: str
    route: str
    above_quota: bool
    position: int
    created_at: dt.datetime
    status_changed_at: dt.datetime
    history: list[TransitionOut]
    abilities: dict[str, bool]
    cancellations_left: int
    number: str = ""  # the registration's number as the receipt shows it (issue 14)


class ApplicationPage(Schema):
    items: list[ApplicationOut]
    next_cursor: str | None


class GuardianActOut(Schema):
    id: str
    kind: str
    number: str
    status: str
    uploaded_at: dt.datetime
    reviewed_at: dt.datetime | None
    review_note: str


class LookupSchool(Schema):
    id: str
    code: str
    name: str


class AddressLookupOut(Schema):
    street: str
    street_name: str
    settlement: str
    house: str
    schools: list[LookupSchool]
