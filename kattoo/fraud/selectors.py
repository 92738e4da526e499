"""Fraud signals for district officers: lists to review, never automatic refusals.

Each signal is one set-based query (GROUP BY … HAVING) over the campaign's registrations, so
it stays fast at national scale (300 k children); docs/fraud-signals.md explains each and its
threshold (``settings.KATTOO_FRAUD``). A district officer sees the signals that touch a school
of the district (their registrations listed are the district's); the ministry sees all.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import (
    CharField,
    Count,
    Expression,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, Trim, Upper
from django.utils.translation import gettext as _

from kattoo.accounts.models import Role, User
from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import Street, Teacher
from kattoo.catalog.selectors import localized_name
from kattoo.core.clock import BISHKEK
from kattoo.enrollment.models import ACTIVE_STATUSES, Application, Route
from kattoo.people.models import GuardianAct, Person

from .models import SignalKind, SignalReview

OVERSIGHT_ROLES = (Role.DISTRICT, Role.MINISTRY_ANALYST, Role.MINISTRY_ADMIN)


def thresholds() -> dict[str, int]:
    return dict(settings.KATTOO_FRAUD)


@dataclass
class Signal:
    kind: str
    key: str
    label: str
    numbers: dict[str, Any]
    applications: list[Application] = field(default_factory=list)
    review: SignalReview | None = None

    @property
    def kind_label(self) -> str:
        return str(SignalKind(self.kind).label)

    @property
    def why(self) -> str:
        """The numbers behind the signal, in the reader's language."""
        n = self.numbers
        if self.kind == SignalKind.MANY_CHILDREN:
            return (
                _(
                    "%(children)d children from %(births)d different births registered in this "
                    "campaign; more than %(limit)d births is unusual (twins and triplets count "
                    "as one birth)."
                )
                % n
            )
        if self.kind == SignalKind.CROWDED_ADDRESS:
            return (
                _(
                    "%(children)d children from %(births)d births and %(families)d families are "
                    "registered at this address; more than %(limit)d births is unusual (in your "
                    "scope an address has %(average)s children on average)."
                )
                % n
            )
        if self.kind == SignalKind.RECENT_ADDRESS:
            return (
                _(
                    "The registered address used for the microdistrict was recorded on %(date)s, "
                    "%(days)d days before stage 1 opened (window: %(window)d days)."
                )
                % n
            )
        if self.kind == SignalKind.LATE_TEACHER:
            return (
                _(
                    "%(teacher)s was added to the teacher roster of %(school)s on %(added)s, "
                    "%(days)d days before the child was registered there above the quota as a "
                    "teacher's child (window: %(window)d days)."
                )
                % n
            )
        return (
            _(
                "The same act was filed by %(guardians)d different guardians for %(children)d "
                "children."
            )
            % n
        )


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose registrations the user oversees: a district, or (None) the whole country."""

    district_id: int | None

    def q(self) -> Q:
        return Q() if self.district_id is None else Q(school__district_id=self.district_id)

    def having(self, path: str = "", **related: Any) -> dict[str, Any]:
        """An annotation for HAVING: groups with at least one registration in scope. The
        numbers themselves stay national."""
        if self.district_id is None:
            return {}
        inside = Q(**{f"{path}school__district_id": self.district_id}, **related)
        return {"in_scope": Count("pk", filter=inside)}


def scope_of(user: User) -> Scope | None:
    if user.role == Role.DISTRICT and user.district_id is not None:
        return Scope(user.district_id)
    if user.role in (Role.MINISTRY_ANALYST, Role.MINISTRY_ADMIN):
        return Scope(None)
    return None


def _kept(having: dict[str, Any]) -> dict[str, Any]:
    return {"in_scope__gt": 0} if having else {}


def _birth(prefix: str = "child__") -> Expression:
    """One birth: a day and a family (the mother, else the father, else the child alone), so
    twins and triplets of one family are one birth (§25) and wards of other families are not
    merged with the applicant's own children."""
    return Concat(
        Cast(f"{prefix}birth_date", CharField()),
        Value("|"),
        _family(prefix),
        output_field=CharField(),
    )


def _family(prefix: str = "child__") -> Expression:
    return Coalesce(
        NullIf(F(f"{prefix}mother_pin"), Value("")),
        NullIf(F(f"{prefix}father_pin"), Value("")),
        Cast(f"{prefix}id", CharField()),
        output_field=CharField(),
    )


# What a listed registration shows (and what the signals match it by): nothing more is read.
_LISTED = (
    "status",
    "created_at",
    "applicant_id",
    "child__surname",
    "child__name",
    "child__patronymic",
    "child__address_street_code",
    "child__address_house",
    "child__address_flat",
    "child__address_registered_on",
    "school__code",
    "school__name_ky",
    "school__name_ru",
    "school__name_en",
)


def _applications(campaign: Campaign) -> QuerySet[Application]:
    return Application.objects.filter(campaign=campaign)


def many_children(campaign: Campaign, scope: Scope, limit: int) -> list[Signal]:
    t = thresholds()
    having = scope.having()
    rows = list(
        _applications(campaign)
        .values("applicant_id")
        .annotate(
            children=Count("child_id", distinct=True),
            births=Count(_birth(), distinct=True),
            **having,
        )
        .filter(**{"births__gt": t["CHILDREN_PER_APPLICANT"], **_kept(having)})
        .order_by("-births", "applicant_id")[:limit]
    )
    people = Person.objects.in_bulk([r["applicant_id"] for r in rows])
    return [
        Signal(
            SignalKind.MANY_CHILDREN,
            str(r["applicant_id"]),
            people[r["applicant_id"]].full_name,
            {
                "children": r["children"],
                "births": r["births"],
                "limit": t["CHILDREN_PER_APPLICANT"],
            },
        )
        for r in rows
    ]


def _address_key(street: str, house: str, flat: str) -> str:
    return f"{street}|{house}|{flat}"


def crowded_addresses(campaign: Campaign, scope: Scope, limit: int) -> list[Signal]:
    t = thresholds()
    active = _applications(campaign).filter(status__in=ACTIVE_STATUSES)
    active = active.exclude(child__address_street_code="")
    address = Concat(
        "child__address_street_code",
        Value("|"),
        "child__address_house",
        Value("|"),
        "child__address_flat",
        output_field=CharField(),
    )
    # The scope's distribution, for the reader to weigh the count against.
    spread = active.filter(scope.q()).aggregate(
        children=Count("child_id", distinct=True), addresses=Count(address, distinct=True)
    )
    average = spread["children"] / spread["addresses"] if spread["addresses"] else 0.0
    having = scope.having()
    rows = list(
        active.values(
            street=F("child__address_street_code"),
            house=F("child__address_house"),
            flat=F("child__address_flat"),
        )
        .annotate(
            children=Count("child_id", distinct=True),
            births=Count(_birth(), distinct=True),
            families=Count(_family(), distinct=True),
            **having,
        )
        .filter(**{"births__gt": t["BIRTHS_PER_ADDRESS"], **_kept(having)})
        .order_by("-births", "street", "house", "flat")[:limit]
    )
    streets = {s.code: s for s in Street.objects.filter(code__in={r["street"] for r in rows})}
    signals = []
    for r in rows:
        street = streets.get(r["street"])
        name = localized_name(street) if street else r["street"]
        flat = _("flat %(flat)s") % {"flat": r["flat"]} if r["flat"] else ""
        label = ", ".join(p for p in (name, r["house"], flat) if p)
        signals.append(
            Signal(
                SignalKind.CROWDED_ADDRESS,
                _address_key(r["street"], r["house"], r["flat"]),
                label,
                {
                    "children": r["children"],
                    "births": r["births"],
                    "families": r["families"],
                    "limit": t["BIRTHS_PER_ADDRESS"],
                    "average": f"{average:.1f}",
                },
            )
        )
    return signals


def recent_addresses(campaign: Campaign, scope: Scope, limit: int) -> list[Signal]:
    window = thresholds()["ADDRESS_WINDOW_DAYS"]
    opening = campaign.stage1_starts_at.astimezone(BISHKEK).date()
    since = opening - dt.timedelta(days=window)
    rows = (
        _applications(campaign)
        .filter(scope.q(), status__in=ACTIVE_STATUSES, route=Route.MICRODISTRICT)
        .filter(
            Q(child__address_registered_on__gte=since)
            | Q(applicant__address_registered_on__gte=since)
        )
        .select_related("child", "applicant", "school")
        .only(*_LISTED, "applicant__address_registered_on")
        .order_by("-created_at")[:limit]
    )
    signals = []
    for app in rows:
        dates = [
            d
            for d in (app.child.address_registered_on, app.applicant.address_registered_on)
            if d is not None and d >= since
        ]
        moved = max(dates)
        signals.append(
            Signal(
                SignalKind.RECENT_ADDRESS,
                str(app.child_id),
                app.child.full_name,
                {"date": moved.isoformat(), "days": (opening - moved).days, "window": window},
                applications=[app],
            )
        )
    return signals


def _act_number() -> Expression:
    return Upper(Trim("number"))


def reused_acts(campaign: Campaign, scope: Scope, limit: int) -> list[Signal]:
    """The same act — the same number of the same kind and date, or the same file — filed for
    children of different guardians. One act naming two guardians of one child, or one
    guardian's several wards, is normal."""
    having = scope.having(
        "link__child__applications__", link__child__applications__campaign=campaign
    )
    counts = {
        "guardians": Count("link__applicant_id", distinct=True),
        "children": Count("link__child_id", distinct=True),
        **having,
    }
    flagged = {"guardians__gt": 1, "children__gt": 1, **_kept(having)}
    by_number = list(
        GuardianAct.objects.exclude(number="")
        .annotate(norm=_act_number())
        .values("kind", "norm", "issued_on")
        .annotate(**counts)
        .filter(**flagged)
        .order_by("-children", "norm")[:limit]
    )
    by_file = list(
        GuardianAct.objects.exclude(content_hash="")
        .values("content_hash")
        .annotate(**counts)
        .filter(**flagged)
        .order_by("-children", "content_hash")[:limit]
    )
    signals = []
    for r in by_number:
        issued = r["issued_on"].isoformat() if r["issued_on"] else ""
        signals.append(
            Signal(
                SignalKind.REUSED_ACT,
                f"number:{r['kind']}|{r['norm']}|{issued}",
                " ".join(p for p in ("№", r["norm"], issued) if p),
                {"guardians": r["guardians"], "children": r["children"]},
            )
        )
    for r in by_file:
        signals.append(
            Signal(
                SignalKind.REUSED_ACT,
                f"file:{r['content_hash']}",
                _("file SHA-256 %(hash)s…") % {"hash": r["content_hash"][:12]},
                {"guardians": r["guardians"], "children": r["children"]},
            )
        )
    return signals[:limit]


def late_teachers(campaign: Campaign, scope: Scope, limit: int) -> list[Signal]:
    """§24: a teacher's-child registration where that teacher joined the school's roster within
    ``TEACHER_WINDOW_DAYS`` before the registration — a roster entry made for the child. One
    query: the roster entry is a correlated subquery on (school, parent's PIN)."""
    window = thresholds()["TEACHER_WINDOW_DAYS"]
    parent = (
        Q(pin=OuterRef("applicant__pin"))
        | Q(pin=OuterRef("child__mother_pin"))
        | Q(pin=OuterRef("child__father_pin"))
    )
    roster = Teacher.objects.filter(parent, school_id=OuterRef("school_id")).order_by("-added_at")
    rows = (
        _applications(campaign)
        .filter(scope.q(), status__in=ACTIVE_STATUSES, route=Route.TEACHER)
        .annotate(
            teacher_added_at=Subquery(roster.values("added_at")[:1]),
            teacher_name=Subquery(roster.values("full_name")[:1]),
        )
        .filter(
            teacher_added_at__isnull=False,
            teacher_added_at__gte=F("created_at") - dt.timedelta(days=window),
        )
        .select_related("child", "school")
        .only(*_LISTED)
        .order_by("-created_at")[:limit]
    )
    signals = []
    for app in rows:
        added = app.teacher_added_at.astimezone(BISHKEK)
        registered = app.created_at.astimezone(BISHKEK)
        signals.append(
            Signal(
                SignalKind.LATE_TEACHER,
                str(app.pk),
                app.child.full_name,
                {
                    "teacher": app.teacher_name,
                    "school": localized_name(app.school),
                    "added": added.date().isoformat(),
                    "days": (registered.date() - added.date()).days,
                    "window": window,
                },
                applications=[app],
            )
        )
    return signals


def _attach_applications(campaign: Campaign, scope: Scope, signals: list[Signal]) -> None:
    """The registrations concerned, in the user's scope: one query per kind."""
    visible = (
        _applications(campaign).filter(scope.q()).select_related("child", "school").only(*_LISTED)
    )
    by_kind: dict[str, list[Signal]] = defaultdict(list)
    for s in signals:
        by_kind[s.kind].append(s)
    if by_kind[SignalKind.MANY_CHILDREN]:
        keyed = {s.key: s for s in by_kind[SignalKind.MANY_CHILDREN]}
        for app in visible.filter(applicant_id__in=[int(k) for k in keyed]).order_by("created_at"):
            keyed[str(app.applicant_id)].applications.append(app)
    if by_kind[SignalKind.CROWDED_ADDRESS]:
        keyed = {s.key: s for s in by_kind[SignalKind.CROWDED_ADDRESS]}
        streets = {k.split("|", 1)[0] for k in keyed}
        rows = visible.filter(
            status__in=ACTIVE_STATUSES, child__address_street_code__in=streets
        ).order_by("created_at")
        for app in rows:
            c = app.child
            key = _address_key(c.address_street_code, c.address_house, c.address_flat)
            if key in keyed:
                keyed[key].applications.append(app)
    if by_kind[SignalKind.REUSED_ACT]:
        keyed = {s.key: s for s in by_kind[SignalKind.REUSED_ACT]}
        hashes = [k[5:] for k in keyed if k.startswith("file:")]
        numbers = [k.split("|")[1] for k in keyed if k.startswith("number:")]
        acts = (
            GuardianAct.objects.annotate(norm=_act_number())
            .filter(Q(content_hash__in=hashes) | Q(norm__in=numbers))
            .values("kind", "norm", "issued_on", "content_hash", "link__child_id")
        )
        children: dict[int, set[str]] = defaultdict(set)
        for a in acts:
            issued = a["issued_on"].isoformat() if a["issued_on"] else ""
            for key in (f"number:{a['kind']}|{a['norm']}|{issued}", f"file:{a['content_hash']}"):
                if key in keyed:
                    children[a["link__child_id"]].add(key)
        for app in visible.filter(child_id__in=list(children)).order_by("created_at"):
            for key in sorted(children[app.child_id]):
                keyed[key].applications.append(app)


def signals_visible_to(user: User, campaign: Campaign, *, kind: str | None = None) -> list[Signal]:
    """The signals of the campaign the user oversees, with their reviews and the registrations
    concerned in scope. Nothing for users who oversee nothing."""
    scope = scope_of(user)
    if scope is None:
        return []
    limit = thresholds()["LIST_LIMIT"]
    finders = {
        SignalKind.MANY_CHILDREN: many_children,
        SignalKind.CROWDED_ADDRESS: crowded_addresses,
        SignalKind.RECENT_ADDRESS: recent_addresses,
        SignalKind.REUSED_ACT: reused_acts,
        SignalKind.LATE_TEACHER: late_teachers,
    }
    signals: list[Signal] = []
    for name, finder in finders.items():
        if kind is None or kind == name:
            signals.extend(finder(campaign, scope, limit))
    _attach_applications(campaign, scope, signals)
    reviews: dict[tuple[str, str], SignalReview] = {
        (r.kind, r.key): r
        for r in SignalReview.objects.filter(
            campaign=campaign, key__in=[s.key for s in signals]
        ).select_related("reviewed_by")
    }
    for s in signals:
        s.review = reviews.get((s.kind, s.key))
    return signals


def signal_visible(user: User, campaign: Campaign, *, kind: str, key: str) -> Signal | None:
    """The signal if the user may see (and review) it now; None answers 404."""
    if kind not in SignalKind.values:
        return None
    return next((s for s in signals_visible_to(user, campaign, kind=kind) if s.key == key), None)
