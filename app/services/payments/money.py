"""Money is integer minor units plus an ISO currency; people type and read major units."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency

from app.services.l10n import locale_code

# Every currency Carebook takes has two decimals (zero-decimal ones such as JPY are not
# supported yet).
MINOR_PER_MAJOR = 100


def to_minor(amount: Decimal) -> int:
    """12.50 -> 1250 (the amount has at most two decimals: forms check that)."""
    return int(amount * MINOR_PER_MAJOR)


def to_major(minor: int) -> Decimal:
    """1250 -> Decimal('12.50')."""
    return Decimal(minor) / MINOR_PER_MAJOR


def format_money(minor: int, currency: str) -> str:
    """9000, "USD" -> "USD 90.00" in English; in other languages as they write it (Babel's
    CLDR data: Spanish "90,00 US$", "45,00 €")."""
    language = locale_code()
    if language == "en":
        return f"{currency} {to_major(minor):,.2f}"
    return format_currency(to_major(minor), currency, locale=language)
