"""Checkout pages and the Stripe webhook."""
