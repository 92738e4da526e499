"""What each event says, in the recipient's language (ky, ru, uz, en). Short: an SMS is 70
Cyrillic characters a part, so the essential comes first."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _

MESSAGES: dict[str, Any] = {
    "login_code": _("Kattoo: your sign-in code is %(code)s. Do not tell it to anyone."),
    "application_registered": _(
        "Kattoo: %(child)s is registered to %(school)s (%(language)s), place %(position)s in "
        "the queue. Wait for the school's admission notice."
    ),
    "application_cancelled": _(
        "Kattoo: the registration of %(child)s to %(school)s is cancelled. Cancellations left: "
        "%(left)s."
    ),
    "application_admitted": _(
        "Kattoo: %(child)s is admitted to %(school)s. Bring the two medical certificates to "
        "the school between %(medical_from)s and %(medical_until)s."
    ),
    "application_refused": _(
        "Kattoo: %(school)s refused the registration of %(child)s: %(reason)s. You can appeal "
        "to the district education office in Kattoo."
    ),
    "documents_requested": _("Kattoo: %(school)s asks for documents: %(text)s"),
    "waitlist_offer": _(
        "Kattoo: a seat for %(child)s at %(school)s (%(language)s) is held for you until "
        "%(until)s. Accept or decline it in Kattoo."
    ),
    "appeal_answered": _(
        "Kattoo: the district education office answered your appeal No. %(number)s. "
        "Read the answer in Kattoo."
    ),
}

# After admission (enrollment/after_admission.py).
MESSAGES.update(
    {
        "application_withdrawn": _(
            "Kattoo: %(child)s is withdrawn from %(school)s; the seat is freed. You can register "
            "the child at the new place of residence."
        ),
        "application_transferred": _(
            "Kattoo: by commission decision No. %(number)s of %(decided_on)s, %(child)s is "
            "admitted to %(school)s (%(language)s)."
        ),
        "pmpk_proposed": _(
            "Kattoo: %(school)s proposes for %(child)s after the ПМПК: %(proposal)s. Agree or "
            "decline in Kattoo."
        ),
    }
)

# The Commission on Children's Affairs (commission/services.py, §9, §26).
MESSAGES.update(
    {
        "commission_placed": _(
            "Kattoo: by decision No. %(number)s of the Commission on Children's Affairs, "
            "%(child)s is placed in %(school)s (%(language)s). Wait for the school's admission "
            "notice."
        ),
    }
)

# The district's decisions on an appeal (kattoo.appeals.services, §17, §22).
MESSAGES.update(
    {
        "appeal_reinstated": _(
            "Kattoo: appeal No. %(number)s is granted. The registration of %(child)s is "
            "reinstated, school: %(school)s (%(language)s). Wait for the school's notice."
        ),
        "appeal_placed": _(
            "Kattoo: appeal No. %(number)s. By decision No. %(decision)s of the Commission on "
            "Children's Affairs %(child)s is placed, school: %(school)s (%(language)s)."
        ),
        "appeal_rejected": _(
            "Kattoo: appeal No. %(number)s is rejected by the district education office: %(reason)s"
        ),
    }
)

# Messages that carry a secret (ADR 0022): never logged, kept encrypted until sent, then blanked.
SECRET_EVENTS = frozenset({"login_code"})


def render(event: str, context: dict[str, Any], language: str) -> str:
    with translation.override(language):
        return str(MESSAGES[event]) % context
