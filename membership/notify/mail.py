"""The email channel: one plain-text message over SMTP (SMTP_URL), with TLS."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from .outbox import Notice
from .outgoing import DeliveryError
from .settings import Smtp

DELIVERY_HEADER = "Membership-Delivery-Id"


def message(sender: str, to: str, notice: Notice, delivery_id: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = notice.subject
    msg["Date"] = formatdate(usegmt=True)
    # Stable across attempts: a repeat after a lost answer threads as the same message.
    domain = sender.rpartition("@")[2] or "membership.invalid"
    msg["Message-ID"] = f"<{delivery_id}@{domain}>"
    msg[DELIVERY_HEADER] = delivery_id
    msg["Auto-Submitted"] = "auto-generated"
    link = notice.data.get("cta_url")
    msg.set_content(f"{notice.text}\n\n{link}\n" if link else f"{notice.text}\n")
    return msg


def send(
    smtp: Smtp | None, sender: str, to: str, notice: Notice, delivery_id: str, timeout: float
) -> None:
    if smtp is None:
        raise DeliveryError("SMTP_URL is not set: email channels wait until it is")
    context = ssl.create_default_context(cafile=smtp.cafile)
    try:
        if smtp.implicit_tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=timeout, context=context
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
        with client:
            secure = smtp.implicit_tls
            if not secure:
                client.ehlo()
                if client.has_extn("starttls"):
                    client.starttls(context=context)
                    client.ehlo()
                    secure = True
                elif smtp.starttls == "required":
                    raise DeliveryError(f"{smtp.host} does not offer STARTTLS (starttls=required)")
            if smtp.username:
                if not secure:
                    # Never a password in clear, whatever the server offers.
                    raise DeliveryError(f"{smtp.host} offers no TLS; not sending the password")
                client.login(smtp.username, smtp.password)
            client.send_message(message(sender, to, notice, delivery_id))
    except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        raise DeliveryError(f"SMTP {smtp.host}:{smtp.port}: {exc}") from None
