"""The school administration's pages (§18, §19, §24): the school and its quota, the
microdistrict work list, the teacher roster, the first classes. Every write is one service
call; the scope is the user's own school, so nothing here takes a school id from the URL."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import messages
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kattoo.accounts.models import Role, User
from kattoo.campaigns.selectors import campaign_active
from kattoo.catalog.models import (
    AdditionStatus,
    Language,
    MicrodistrictAddress,
    MicrodistrictRequest,
    RequestStatus,
    RosterChangeKind,
    School,
    Street,
    Teacher,
    TeacherAddition,
)
from kattoo.catalog.selectors import house_number_value, localized_name
from kattoo.catalog.services import (
    microdistrict_address_add,
    microdistrict_request_reject,
    teacher_add,
    teacher_remove,
    teacher_roster_campaign,
    teacher_roster_frozen,
)
from kattoo.classes.exports import COLUMNS as KUNDOLUK_COLUMNS
from kattoo.classes.exports import admitted_children
from kattoo.classes.models import ClassMember, FormedClass
from kattoo.classes.pdf import class_lists_pdf
from kattoo.classes.services import classes_form
from kattoo.core import clock
from kattoo.core.errors import FieldError, RuleViolation
from kattoo.enrollment.models import SeatPool, Status
from kattoo.enrollment.selectors import applications_visible_to
from kattoo.quotas.models import Quota, QuotaEvent
from kattoo.quotas.selectors import quota_abilities, quota_of, quota_state
from kattoo.quotas.services import QuotaOperation, quota_change, quota_confirm
from kattoo.reports.exports import rows_csv, rows_xlsx, sex_label

from ..access import staff_required
from ..forms_staff import (
    AddressForm,
    AddressLineForm,
    ClassesForm,
    QuotaChangeForm,
    RejectRequestForm,
    TeacherForm,
)
from ..problems import problem_of
from .staff_common import (
    form_errors_text,
    lock_context,
    personal_data_export,
    personal_data_read,
    staff_actor,
    staff_user,
    violation_text,
)

school_staff = staff_required(Role.SCHOOL)


def _school(request: HttpRequest) -> School:
    school = staff_user(request).school
    if school is None:  # the database forbids it for this role; kept for the type checker
        raise Http404
    return school


# ---- the school at a glance ----------------------------------------------------------------


@school_staff
def school_overview(request: HttpRequest) -> HttpResponse:
    school = _school(request)
    campaign = campaign_active()
    quota = quota_of(school.pk, campaign)
    lock = lock_context(campaign)
    applications = applications_visible_to(staff_user(request)).filter(campaign=campaign)
    counts = applications.aggregate(
        registered=Count("id", filter=Q(status=Status.REGISTERED)),
        admitted=Count("id", filter=Q(status=Status.ADMITTED)),
        refused=Count("id", filter=Q(status=Status.REFUSED)),
    )
    complete = (
        applications.filter(status=Status.ADMITTED)
        .annotate(n=Count("documents"))
        .filter(n__gte=2)
        .count()
    )
    return render(
        request,
        "staff/school/overview.html",
        {
            "school": School.objects.select_related("district__region", "settlement").get(
                pk=school.pk
            ),
            "quota": quota,
            "state": str(quota_state(quota, lock_at=lock["lock_at"])) if quota else "",
            "pools": SeatPool.objects.filter(campaign=campaign, school=school).order_by("language"),
            "counts": counts,
            "certificates_missing": counts["admitted"] - complete,
            "pending_requests": MicrodistrictRequest.objects.filter(
                school=school, status=RequestStatus.PENDING
            ).count(),
            **lock,
        },
    )


# ---- the quota (§11, §17) --------------------------------------------------------------------

OPERATION_TEXT = {
    "raise": lambda o: (
        _("class-set %(n)s: seats raised to %(seats)s")
        % {"n": o.get("class_set"), "seats": o.get("seats")}
    ),
    "add": lambda o: _("a Kyrgyz class-set added with %(seats)s seats") % {"seats": o.get("seats")},
    "to_kyrgyz": lambda o: _("class-set %(n)s switched to Kyrgyz") % {"n": o.get("class_set")},
    "remove": lambda o: _("class-set %(n)s removed") % {"n": o.get("class_set")},
}
EVENT_TEXT = {
    "computed": lambda: _("computed"),
    "recomputed": lambda: _("recomputed from new data"),
    "changed": lambda: _("changed by the school"),
    "confirmed": lambda: _("confirmed by the school"),
    "approved": lambda: _("approved by the district office"),
}


def quota_history(quota: Quota) -> list[dict[str, Any]]:
    """The quota's events as lines people read: who, when, what changed."""
    events: list[QuotaEvent] = list(quota.events.all())
    actors = User.objects.in_bulk([e.actor_id for e in events if e.actor_id])
    rows = []
    for event in events:
        actor = actors.get(event.actor_id) if event.actor_id else None
        details = [
            OPERATION_TEXT[o["op"]](o)
            for o in event.data.get("operations", [])
            if o.get("op") in OPERATION_TEXT
        ]
        sets = event.data.get("class_sets") or event.data.get("after") or []
        rows.append(
            {
                "at": event.at,
                "kind": EVENT_TEXT[event.kind]() if event.kind in EVENT_TEXT else event.kind,
                "actor": actor.get_username() if actor else _("the system"),
                "details": details,
                "seats": sum(int(c.get("seats", 0)) for c in sets),
                "class_sets": len(sets),
            }
        )
    return rows


def _quota_page(
    request: HttpRequest, *, problem: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    user, school = staff_user(request), _school(request)
    campaign = campaign_active()
    lock = lock_context(campaign)
    quota = quota_of(school.pk, campaign)
    context: dict[str, Any] = {"school": school, "quota": quota, "problem": problem, **lock}
    if quota is not None:
        state = quota_state(quota, lock_at=lock["lock_at"])
        class_sets = sorted(quota.class_sets.all(), key=lambda c: c.number)
        context.update(
            state=str(state),
            abilities=quota_abilities(user, quota, state),
            class_sets=class_sets,
            raisable=[c for c in class_sets if c.seats < campaign.class_size_max],
            switchable=[c for c in class_sets if c.language != Language.KY],
            removable=[c for c in class_sets if c.source == "added"],
            seats_total=sum(c.seats for c in class_sets),
            kyrgyz_sets=sum(1 for c in class_sets if c.language == Language.KY),
            history=quota_history(quota),
            class_size_min=campaign.class_size_min,
            class_size_max=campaign.class_size_max,
        )
    return render(request, "staff/school/quota.html", context, status=status)


@school_staff
def school_quota(request: HttpRequest) -> HttpResponse:
    """The quota and, by POST, one of the director's allowed changes before the lock."""
    if request.method != "POST":
        return _quota_page(request)
    quota = quota_of(_school(request).pk, campaign_active())
    if quota is None:
        raise Http404
    form = QuotaChangeForm(request.POST)
    if not form.is_valid():
        problem = {"title": _("The quota was not changed."), "detail": form_errors_text(form)}
        return _quota_page(request, problem=problem, status=422)
    operation = QuotaOperation(
        op=form.cleaned_data["op"],
        class_set=form.cleaned_data["class_set"],
        seats=form.cleaned_data["seats"],
        language=Language.KY if form.cleaned_data["op"] in ("add", "to_kyrgyz") else None,
    )
    try:
        quota_change(quota=quota, operations=[operation], actor=staff_actor(request))
    except RuleViolation as exc:
        return _quota_page(request, problem=problem_of(exc), status=409)
    messages.success(request, _("The quota is changed. Confirm it when it is final."))
    return redirect("web:staff:school_quota")


@school_staff
@require_POST
def school_quota_confirm(request: HttpRequest) -> HttpResponse:
    quota = quota_of(_school(request).pk, campaign_active())
    if quota is None:
        raise Http404
    if request.POST.get("final") != "yes":
        # Confirming cannot be undone (§17): the director ticks that the quota is final.
        messages.error(request, _("Tick that the quota is final to confirm it."))
        return redirect("web:staff:school_quota")
    try:
        quota_confirm(quota=quota, actor=staff_actor(request))
    except RuleViolation as exc:
        return _quota_page(request, problem=problem_of(exc), status=409)
    messages.success(request, _("The quota is confirmed; the district office approves it next."))
    return redirect("web:staff:school_quota")


# ---- the microdistrict and parents' requests (§19, §21) -------------------------------------


def _street_choices(school: School) -> list[tuple[str, str]]:
    streets = (
        Street.objects.filter(settlement__district_id=school.district_id)
        .select_related("settlement")
        .order_by("name_ky", "code")
    )
    return [(s.code, f"{localized_name(s)} — {localized_name(s.settlement)}") for s in streets]


def _addresses_page(
    request: HttpRequest,
    *,
    form: AddressForm | None = None,
    request_forms: dict[int, Any] | None = None,
    problem: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    school = _school(request)
    pending = list(
        MicrodistrictRequest.objects.filter(school=school, status=RequestStatus.PENDING).order_by(
            "created_at", "pk"
        )
    )
    streets = Street.objects.in_bulk([r.street_code for r in pending], field_name="code")
    request_forms = request_forms or {}
    work = []
    for item in pending:
        value = house_number_value(item.house)
        work.append(
            {
                "request": item,
                "street": streets.get(item.street_code),
                "form": request_forms.get(item.pk)
                or AddressLineForm(
                    prefix=f"r{item.pk}", initial={"house_from": value, "house_to": value}
                ),
                "reject_form": RejectRequestForm(prefix=f"x{item.pk}"),
            }
        )
    if work:  # families' registered addresses, with the child they concern
        personal_data_read(
            request, "address_requests", obj=school, school=school.pk, count=len(work)
        )
    return render(
        request,
        "staff/school/addresses.html",
        {
            "school": School.objects.select_related("district__region", "settlement").get(
                pk=school.pk
            ),
            "lines": MicrodistrictAddress.objects.filter(school=school)
            .select_related("street__settlement")
            .order_by("street__name_ky", "house_from"),
            "work": work,
            "handled": MicrodistrictRequest.objects.filter(school=school)
            .exclude(status=RequestStatus.PENDING)
            .order_by("-handled_at")[:30],
            "form": form or AddressForm(streets=_street_choices(school)),
            "problem": problem,
        },
        status=status,
    )


@school_staff
def school_addresses(request: HttpRequest) -> HttpResponse:
    """The microdistrict and the work list; by POST, add a missing address directly."""
    if request.method != "POST":
        return _addresses_page(request)
    school = _school(request)
    form = AddressForm(request.POST, streets=_street_choices(school))
    if not form.is_valid():
        return _addresses_page(request, form=form, status=422)
    street = get_object_or_404(Street, code=form.cleaned_data["street"])
    try:
        microdistrict_address_add(
            school=school,
            street=street,
            house_from=form.cleaned_data["house_from"],
            house_to=form.cleaned_data["house_to"],
            parity=form.cleaned_data["parity"],
            note=form.cleaned_data["note"],
            actor=staff_actor(request),
        )
    except FieldError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _addresses_page(request, form=form, status=422)
    messages.success(request, _("The address is added to the microdistrict."))
    return redirect("web:staff:school_addresses")


def _pending_request(request: HttpRequest, request_id: int) -> MicrodistrictRequest:
    return get_object_or_404(MicrodistrictRequest, pk=request_id, school_id=_school(request).pk)


@school_staff
@require_POST
def school_request_add(request: HttpRequest, request_id: int) -> HttpResponse:
    item = _pending_request(request, request_id)
    if item.status != RequestStatus.PENDING:
        messages.error(request, violation_text(RuleViolation("invalid_status_transition")))
        return redirect("web:staff:school_addresses")
    form = AddressLineForm(request.POST, prefix=f"r{item.pk}")
    street = Street.objects.filter(code=item.street_code).first()
    if street is None:
        form.add_error(None, _("The registry's street of this address is not in the catalog."))
    if street is None or not form.is_valid():
        return _addresses_page(request, request_forms={item.pk: form}, status=422)
    try:
        microdistrict_address_add(
            school=item.school,
            street=street,
            house_from=form.cleaned_data["house_from"],
            house_to=form.cleaned_data["house_to"],
            parity=form.cleaned_data["parity"],
            note=form.cleaned_data["note"],
            request=item,
            actor=staff_actor(request),
        )
    except FieldError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _addresses_page(request, request_forms={item.pk: form}, status=422)
    messages.success(request, _("The address is added; the parent sees the answer."))
    return redirect("web:staff:school_addresses")


@school_staff
@require_POST
def school_request_reject(request: HttpRequest, request_id: int) -> HttpResponse:
    item = _pending_request(request, request_id)
    form = RejectRequestForm(request.POST, prefix=f"x{item.pk}")
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return redirect("web:staff:school_addresses")
    try:
        microdistrict_request_reject(
            request=item, note=form.cleaned_data["note"], actor=staff_actor(request)
        )
    except RuleViolation as exc:
        messages.error(request, violation_text(exc))
    else:
        messages.success(request, _("The request is answered: the address is not added."))
    return redirect("web:staff:school_addresses")


# ---- the teacher roster (§24) ----------------------------------------------------------------


@school_staff
def school_teachers(request: HttpRequest) -> HttpResponse:
    school = _school(request)
    form = TeacherForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                added = teacher_add(
                    school=school,
                    pin=form.cleaned_data["pin"],
                    full_name=form.cleaned_data["full_name"].strip(),
                    actor=staff_actor(request),
                )
            except FieldError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            except RuleViolation as exc:
                form.add_error("pin", violation_text(exc))
                status = 409
            else:
                if isinstance(added, Teacher):
                    messages.success(request, _("The teacher is added to the roster."))
                else:
                    messages.info(
                        request,
                        _(
                            "The roster is frozen since the quota lock: the addition waits for "
                            "the district office's approval."
                        ),
                    )
                return redirect("web:staff:school_teachers")
    teachers = Teacher.objects.filter(school=school).order_by("full_name", "pk")
    additions = list(TeacherAddition.objects.filter(school=school).order_by("-requested_at")[:50])
    removals = set(
        TeacherAddition.objects.filter(
            school=school, kind=RosterChangeKind.REMOVE, status=AdditionStatus.PENDING
        ).values_list("pin", flat=True)
    )
    return render(
        request,
        "staff/school/teachers.html",
        {
            "school": school,
            "teachers": teachers,
            "form": form,
            "additions": additions,
            "removals": removals,
            "frozen": teacher_roster_frozen(teacher_roster_campaign()),
        },
        status=status,
    )


@school_staff
@require_POST
def school_teacher_remove(request: HttpRequest, teacher_id: int) -> HttpResponse:
    """§24: before the quota lock the teacher leaves the roster at once; from the lock on the
    removal, with the school's ground, waits for the district office."""
    teacher = get_object_or_404(Teacher, pk=teacher_id, school_id=_school(request).pk)
    try:
        removal = teacher_remove(
            teacher=teacher, actor=staff_actor(request), ground=request.POST.get("ground", "")
        )
    except FieldError as exc:
        messages.error(request, exc.message)
    except RuleViolation as exc:
        messages.error(request, violation_text(exc))
    else:
        if removal is None:
            messages.success(request, _("The teacher is removed from the roster."))
        else:
            messages.info(
                request,
                _(
                    "The roster is frozen since the quota lock: the removal waits for the "
                    "district office's approval."
                ),
            )
    return redirect("web:staff:school_teachers")


# ---- first classes (§19) ---------------------------------------------------------------------


def _formed_classes(school: School, campaign: Any) -> list[FormedClass]:
    members = ClassMember.objects.select_related("application__child").order_by(
        "application__child__surname", "application__child__name", "application_id"
    )
    return list(
        FormedClass.objects.filter(campaign=campaign, school=school)
        .prefetch_related(Prefetch("members", queryset=members))
        .order_by("class_set_number")
    )


@school_staff
def school_classes(request: HttpRequest) -> HttpResponse:
    school = _school(request)
    campaign = campaign_active()
    if request.method == "POST":
        form = ClassesForm(request.POST)
        if not form.is_valid():
            messages.error(request, form_errors_text(form))
            return redirect("web:staff:school_classes")
        try:
            formed = classes_form(
                campaign=campaign,
                school=school,
                language=form.cleaned_data["language"],
                actor=staff_actor(request),
            )
        except RuleViolation as exc:
            messages.error(request, violation_text(exc))
        else:
            messages.success(
                request,
                _("%(count)d classes are formed, boys and girls balanced.")
                % {"count": len(formed)},
            )
        return redirect("web:staff:school_classes")
    quota = quota_of(school.pk, campaign)
    languages = sorted({c.language for c in quota.class_sets.all()}) if quota else []
    classes = _formed_classes(school, campaign)
    admitted = Counter(
        applications_visible_to(staff_user(request))
        .filter(campaign=campaign, status=Status.ADMITTED)
        .values_list("language", flat=True)
    )
    placed = Counter(c.language for c in classes for _m in c.members.all())
    groups = []
    for language in languages:
        rows = []
        for formed_class in (c for c in classes if c.language == language):
            sexes = Counter(m.application.child.sex for m in formed_class.members.all())
            rows.append({"class": formed_class, "boys": sexes["M"], "girls": sexes["F"]})
        groups.append(
            {
                "language": language,
                "label": Language(language).label,
                "classes": rows,
                "admitted": admitted[language],
                "outside": admitted[language] - placed[language],
            }
        )
    if classes:
        personal_data_read(
            request, "classes", obj=school, school=school.pk, count=sum(placed.values())
        )
    return render(
        request,
        "staff/school/classes.html",
        {"school": school, "groups": groups, "any_formed": bool(classes)},
    )


@school_staff
def school_classes_xlsx(request: HttpRequest) -> HttpResponse:
    """The class lists for the school's records (and for Kundoluk, §30)."""
    school = _school(request)
    campaign = campaign_active()
    columns = [
        _("Class"),
        _("Language"),
        _("No."),
        _("Surname"),
        _("Name"),
        _("Patronymic"),
        _("Sex"),
        _("Date of birth"),
        _("PIN"),
    ]
    rows = []
    for formed_class in _formed_classes(school, campaign):
        for i, member in enumerate(formed_class.members.all(), start=1):
            child = member.application.child
            values = [
                f"1{formed_class.letter}",
                str(Language(formed_class.language).label),
                i,
                child.surname,
                child.name,
                child.patronymic,
                sex_label(child.sex),
                child.birth_date,
                child.pin,
            ]
            rows.append(dict(zip(columns, values, strict=True)))
    personal_data_export(
        request, "class_lists", "xlsx", obj=school, school=school.pk, count=len(rows)
    )
    response = HttpResponse(
        rows_xlsx(rows, columns, _("Classes")),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    stamp = clock.today().isoformat()
    response["Content-Disposition"] = f'attachment; filename="classes-{school.code}-{stamp}.xlsx"'
    return response


@school_staff
def school_classes_pdf(request: HttpRequest) -> HttpResponse:
    """The class lists as a PDF, one page per class (§19)."""
    school = _school(request)
    campaign = campaign_active()
    header = [_("No."), _("Surname"), _("Name"), _("Patronymic"), _("Sex"), _("Date of birth")]
    classes = []
    for formed_class in _formed_classes(school, campaign):
        language = Language(formed_class.language).label
        rows = [
            [
                str(i),
                m.application.child.surname,
                m.application.child.name,
                m.application.child.patronymic,
                # the page's language, never the registry's Latin "M"/"F"
                m.application.child.get_sex_display(),
                m.application.child.birth_date.strftime("%d.%m.%Y"),
            ]
            for i, m in enumerate(formed_class.members.all(), start=1)
        ]
        classes.append((f"1{formed_class.letter} ({language})", rows))
    personal_data_export(
        request,
        "class_lists",
        "pdf",
        obj=school,
        school=school.pk,
        count=sum(len(rows) for _name, rows in classes),
    )
    title = f"{localized_name(school)} — {campaign.title}"
    response = HttpResponse(
        class_lists_pdf(title=title, header=header, classes=classes), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="classes-{school.code}.pdf"'
    return response


@school_staff
def school_kundoluk_csv(request: HttpRequest) -> HttpResponse:
    """§30: the admitted children, in the order of admission, for Kundoluk
    (docs/data-formats.md, "kattoo-kundoluk/1")."""
    school = _school(request)
    rows = admitted_children(campaign=campaign_active(), school=school)
    personal_data_export(request, "kundoluk", "csv", obj=school, school=school.pk, count=len(rows))
    response = HttpResponse(
        rows_csv(rows, KUNDOLUK_COLUMNS, labelled=False), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="kundoluk-{school.code}.csv"'
    return response
