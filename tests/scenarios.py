"""A realistic stream of Stripe events: the lives of a few hundred readers over a year.

Subscriptions that start, renew, fall past due, go unpaid, pause, cancel and resubscribe;
trials; one-off payments, guest checkouts, full and partial refunds; delayed payment methods
that succeed or fail; test-mode events; event types the service does not use.
"""

from __future__ import annotations

import random
from typing import Any

from tests import stripe_factory as sf

DAY = 86400


class Stream:
    def __init__(self, seed: int, now: int, livemode: bool = True) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.livemode = livemode
        self.events: list[dict[str, Any]] = []
        self._n = 0

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}_{self._n:05d}"

    def _at(self, start: int, end: int) -> int:
        return self.rng.randint(start, max(start, min(end, self.now - 60)))

    def add(self, event: dict[str, Any]) -> None:
        # A story's later steps may fall after now: those have not happened yet.
        if event["created"] < self.now:
            self.events.append(event)

    # --- readers -------------------------------------------------------------------------

    def subscriber(self, customer: str | None = None, since: int | None = None) -> None:
        rng, live = self.rng, self.livemode
        customer = customer or self._id("cus")
        sub, session = self._id("sub"), self._id("cs")
        t = since if since is not None else self._at(self.now - 400 * DAY, self.now - DAY)
        self.add(sf.subscription_event("created", sub, customer, "incomplete", t, livemode=live))
        self.add(
            sf.invoice_paid(
                self._id("in"),
                customer,
                sub,
                t + 1,
                livemode=live,
                shape=rng.choice(["old", "new"]),
            )
        )
        self.add(sf.subscription_event("updated", sub, customer, "active", t + 1, livemode=live))
        self.add(
            sf.checkout_event(session, t + 2, customer=customer, subscription=sub, livemode=live)
        )
        t += 30 * DAY
        while t < self.now - DAY:
            fate = rng.random()
            if fate < 0.70:  # renews
                self.add(sf.invoice_paid(self._id("in"), customer, sub, t, livemode=live))
            elif fate < 0.80:  # a card fails, then the retry succeeds
                self.add(
                    sf.subscription_event("updated", sub, customer, "past_due", t, livemode=live)
                )
                self.add(sf.invoice_paid(self._id("in"), customer, sub, t + 3 * DAY, livemode=live))
                self.add(
                    sf.subscription_event(
                        "updated", sub, customer, "active", t + 3 * DAY, livemode=live
                    )
                )
            elif fate < 0.86:  # fails for good: unpaid
                self.add(
                    sf.subscription_event("updated", sub, customer, "past_due", t, livemode=live)
                )
                self.add(
                    sf.subscription_event(
                        "updated", sub, customer, "unpaid", t + 15 * DAY, livemode=live
                    )
                )
                return
            elif fate < 0.90:  # pauses
                self.add(
                    sf.subscription_event("updated", sub, customer, "paused", t, livemode=live)
                )
                return
            else:  # cancels, and some come back with a new subscription
                self.add(
                    sf.subscription_event("updated", sub, customer, "active", t, livemode=live)
                )
                self.add(
                    sf.subscription_event(
                        "deleted", sub, customer, "canceled", t + DAY, livemode=live
                    )
                )
                if rng.random() < 0.4 and t + 20 * DAY < self.now:
                    self.subscriber(customer, since=t + 20 * DAY)
                return
            t += 30 * DAY

    def trial(self) -> None:
        live = self.livemode
        customer, sub = self._id("cus"), self._id("sub")
        t = self._at(self.now - 60 * DAY, self.now - DAY)
        self.add(sf.subscription_event("created", sub, customer, "trialing", t, livemode=live))
        if t + 14 * DAY < self.now:
            if self.rng.random() < 0.6:
                self.add(
                    sf.invoice_paid(self._id("in"), customer, sub, t + 14 * DAY, livemode=live)
                )
                self.add(
                    sf.subscription_event(
                        "updated", sub, customer, "active", t + 14 * DAY, livemode=live
                    )
                )
            else:
                self.add(
                    sf.subscription_event(
                        "deleted", sub, customer, "canceled", t + 14 * DAY, livemode=live
                    )
                )

    def one_off(self, guest: bool = False) -> None:
        live, rng = self.livemode, self.rng
        customer = None if guest else self._id("cus")
        session, intent = self._id("cs"), self._id("pi")
        t = self._at(self.now - 500 * DAY, self.now - DAY)  # some have run out their term
        self.add(
            sf.checkout_event(
                session, t, mode="payment", customer=customer, payment_intent=intent, livemode=live
            )
        )
        fate = rng.random()
        if fate < 0.1:
            self.add(sf.charge_refunded(self._id("ch"), intent, t + 2 * DAY, livemode=live))
        elif fate < 0.2:
            self.add(
                sf.charge_refunded(
                    self._id("ch"), intent, t + 2 * DAY, refunded=False, livemode=live
                )
            )

    def delayed(self) -> None:
        """A bank debit: the checkout completes unpaid, then succeeds or fails."""
        live = self.livemode
        customer, session, intent = self._id("cus"), self._id("cs"), self._id("pi")
        t = self._at(self.now - 100 * DAY, self.now - 3 * DAY)
        self.add(
            sf.checkout_event(
                session,
                t,
                mode="payment",
                payment_status="unpaid",
                customer=customer,
                payment_intent=intent,
                livemode=live,
            )
        )
        kind = "async_payment_succeeded" if self.rng.random() < 0.7 else "async_payment_failed"
        self.add(
            sf.checkout_event(
                session,
                t + 2 * DAY,
                mode="payment",
                payment_status="paid" if "succeeded" in kind else "unpaid",
                customer=customer,
                payment_intent=intent,
                kind=kind,
                livemode=live,
            )
        )

    def noise(self) -> None:
        kind = self.rng.choice(
            [
                "customer.created",
                "payment_intent.succeeded",
                "invoice.finalized",
                "charge.succeeded",
            ]
        )
        self.add(sf.other_event(kind, self._at(self.now - 30 * DAY, self.now), livemode=True))

    def test_mode_signup(self) -> None:
        customer, sub = self._id("cus_test"), self._id("sub_test")
        t = self._at(self.now - 30 * DAY, self.now - DAY)
        self.add(
            sf.checkout_event(
                self._id("cs_test"),
                t,
                customer=customer,
                subscription=sub,
                livemode=not self.livemode,
            )
        )


def realistic(seed: int, now: int, readers: int = 120) -> list[dict[str, Any]]:
    stream = Stream(seed, now)
    for _ in range(readers):
        pick = stream.rng.random()
        if pick < 0.50:
            stream.subscriber()
        elif pick < 0.60:
            stream.trial()
        elif pick < 0.75:
            stream.one_off()
        elif pick < 0.82:
            stream.one_off(guest=True)
        elif pick < 0.90:
            stream.delayed()
        elif pick < 0.95:
            stream.test_mode_signup()
        else:
            stream.noise()
    return stream.events
