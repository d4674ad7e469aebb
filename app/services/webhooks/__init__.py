"""Outgoing webhooks: clinics' endpoints (endpoints.py), events written in the transaction of
the change (events.py), signed deliveries with retries (delivery.py), and the guard that keeps
them off private networks (addresses.py)."""
