"""Reviews of completed visits: writing and editing them, the doctor's reply, moderation,
the doctors' rating totals and the listings."""
