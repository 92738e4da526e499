"""What a parent does on the phone, in words of the page's own language."""

from __future__ import annotations

from typing import Any

from django.utils import translation

from kattoo.catalog.selectors import localized_name

from ..notifications.phone import latest_challenge, sign_in_code
from .conftest import Phone


def t(lang: str, message: str, **values: Any) -> str:
    """A string of the web pages as the parent reads it in ``lang``."""
    with translation.override(lang):
        text = translation.gettext(message)
    return text % values if values else text


def sms_code(pin: str) -> str:
    """The code of the last sign-in SMS sent to ``pin``'s phone (the outbox holds it)."""
    challenge = latest_challenge(pin)
    return sign_in_code(challenge.pk)


def sign_in(phone: Phone, pin: str, language: str) -> None:
    """Home → sign in with the PIN → the code from the SMS → my children."""
    page = phone.goto("/")
    phone.check("home")
    page.get_by_role("link", name=t(language, "Sign in with your PIN")).click()
    phone.check("login")
    page.get_by_label(t(language, "Personal identification number (PIN)")).fill(pin)
    page.get_by_role("button", name=t(language, "Send the code")).click()
    phone.check("code")
    page.get_by_label(t(language, "Code from the SMS")).fill(sms_code(pin))
    page.locator("main").get_by_role("button", name=t(language, "Sign in")).click()
    assert phone.path == "/children/", phone.path
    phone.check("children")


def name_in(lang: str, obj: Any) -> str:
    """A school's (street's, …) name as the page shows it in ``lang``."""
    with translation.override(lang):
        return localized_name(obj)


def alert_text(phone: Phone) -> str:
    return " ".join(phone.page.locator("main .alert").all_inner_texts())


CLASSES = {"ky": "Kyrgyz class", "ru": "Russian class", "uz": "Uzbek class"}


def class_name(lang: str, language: str) -> str:
    """A class named by its language of instruction, as the buttons and pages say it."""
    return t(lang, CLASSES[language])


def choose_class(
    phone: Phone, school: Any, language: str, lang: str, *, prepare: bool = False
) -> None:
    """On the school list: the class's button in that school's card (the check page opens)."""
    label = "Prepare: %(class)s" if prepare else "Register: %(class)s"
    card = phone.page.locator(f"#school-{school.pk}")
    card.get_by_role("link", name=t(lang, label, **{"class": class_name(lang, language)})).click()
    phone.check("check-answers")


def register_through_the_check(phone: Phone, school: Any, language: str, lang: str) -> None:
    """School list → check your answers → confirm: what a parent taps to register."""
    choose_class(phone, school, language, lang)
    phone.page.get_by_role("button", name=t(lang, "Confirm and register")).click()
