from django.apps import AppConfig


class WaitlistConfig(AppConfig):
    name = "kattoo.waitlist"
    label = "waitlist"

    def ready(self) -> None:
        # A seat freed by enrollment (cancellation, refusal, withdrawal, transfer) is offered
        # to the first child in line (ADR 0013); enrollment announces it without importing us.
        from kattoo.enrollment.pools import seat_freed_listen

        from .services import seat_freed

        seat_freed_listen(seat_freed)
