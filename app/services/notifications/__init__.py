"""Telling people what changed: the outbox (rows written with the change, delivered after
the commit), the catalogue of kinds (what each message says), delivery by email, SMS and
in-app, reminders, preferences and the in-app inbox."""
