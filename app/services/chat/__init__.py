"""Chat between a patient and their doctor: who may talk (rules), conversations, messages
with their read state and rate limit, and attachments. Live delivery is published through
services/realtime after each commit; the recipient is told through the notifications outbox."""
