import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
django_application = get_wsgi_application()

# Admission control in front of Django (kattoo/web/admission.py, ADR 0015).
from kattoo.web.admission import AdmissionControl  # noqa: E402

application = AdmissionControl.from_settings(django_application)
