import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
django_application = get_wsgi_application()

# Admission control in front of Django (kattoo/web/admission.py, ADR 0015); inside it, bodies
# sent without a length are read up to their endpoint's limit, never further
# (kattoo/core/body_limit.py: nginx buffers bodies and sends their length, so this serves a
# client that reaches the application directly); inside that, the opening minute's plain
# draft submit is answered without Django's middleware and Ninja, everything else goes on to
# Django (kattoo/api/hot.py, ADR 0027).
# Admission counts the plain submits, which wait for their batch holding no connection, apart
# from the requests Django serves with one: above the pool, only the former (ADR 0053).
from kattoo.api.hot import SlimSubmit, borrows  # noqa: E402
from kattoo.core.body_limit import BodyLimit  # noqa: E402
from kattoo.web.admission import AdmissionControl  # noqa: E402

application = AdmissionControl.from_settings(
    BodyLimit(SlimSubmit(django_application)), borrows=borrows
)
