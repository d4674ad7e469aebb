"""The help and policy pages a new installation starts with (the migration that creates the
table inserts them, and `flask seed-demo` adds any that are missing). Plain data: staff with
content.manage rewrite them at /admin/pages."""

from __future__ import annotations

# (slug, kind, title, position, Markdown body)
DEFAULT_PAGES: list[tuple[str, str, str, int, str]] = [
    (
        "terms",
        "policy",
        "Terms of use",
        10,
        """Carebook puts patients in touch with clinics and their doctors. By booking you
agree to these terms.

## Bookings

- A booked time is held for you alone; please arrive on time or join the video visit at
  the start.
- The clinic's cancellation policy applies to every booking (see
  [the cancellation policy](/policies/cancellation-policy)).

## Medical advice

Carebook does not give medical advice: your doctor does. **In an emergency, call your
local emergency number.**
""",
    ),
    (
        "privacy",
        "policy",
        "Privacy policy",
        20,
        """We keep what a visit needs: your name, contact details, your bookings and what you
choose to tell your doctor.

- Your doctor and their clinic see your bookings with them; nobody else does.
- Card details go to our payment processor, never to us.
- You may ask for a copy of your data, or for it to be deleted, at any time.
""",
    ),
    (
        "cancellation-policy",
        "policy",
        "Cancellation policy",
        30,
        """Each clinic sets a window before the visit (24 hours unless it says otherwise).

- **Before the window** you may cancel or move a visit online, and a card payment is
  refunded in full.
- **Inside the window** online changes close; some clinics still let you cancel online for
  part of the fee back (the booking page says how much).
- **When the doctor or the clinic cancels**, you always get everything back.
""",
    ),
    (
        "how-do-i-book",
        "faq",
        "How do I book a visit?",
        10,
        """Find a doctor at [Find a doctor](/doctors), choose a free time and confirm. Paying by
card happens on the next page; some clinics also take payment at the clinic.""",
    ),
    (
        "can-i-cancel",
        "faq",
        "Can I cancel or move my visit?",
        20,
        """Yes, from [your appointments](/appointments), until the clinic's window closes. See
[the cancellation policy](/policies/cancellation-policy).""",
    ),
    (
        "video-visits",
        "faq",
        "How do video visits work?",
        30,
        """Video times are marked on the doctor's page. Your confirmation email and your
appointment page say how to join.""",
    ),
]
