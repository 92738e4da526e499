"""Issue 13 item 9: the technical operator sees that a staff member has an authenticator, never
its secret key or QR code (kattoo.accounts.admin)."""

from __future__ import annotations

from base64 import b32encode

from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from kattoo.accounts.models import Role

from ..factories import UserFactory
from ..web.staff.conftest import staff_user, totp_device, verified


def test_the_operator_cannot_read_a_staff_secret(client: Client, world) -> None:
    operator = UserFactory(role=Role.OPERATOR, is_staff=True, is_superuser=True)
    verified(client, operator)
    director = staff_user(Role.SCHOOL, school=world.school)
    device = totp_device(director)
    secrets = (device.key, b32encode(device.bin_key).decode(), device.config_url)
    listing = client.get("/admin/otp_totp/totpdevice/")
    assert listing.status_code == 200 and director.username in listing.content.decode()
    detail = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert detail.status_code == 200
    for page in (listing, detail):
        html = page.content.decode()
        assert not any(secret in html for secret in secrets)
        assert "qrcode" not in html and "/config/" not in html
    for path in (f"{device.pk}/config/", f"{device.pk}/qrcode/", "add/"):
        response = client.get(f"/admin/otp_totp/totpdevice/{path}")
        assert response.status_code in (302, 403, 404)
        assert not any(secret in response.content.decode() for secret in secrets)
    # Read-only: a POST changes nothing, and nothing can be deleted.
    client.post(f"/admin/otp_totp/totpdevice/{device.pk}/change/", {"key": "00" * 20})
    client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    device.refresh_from_db()
    assert device.key == secrets[0] and TOTPDevice.objects.filter(pk=device.pk).exists()
