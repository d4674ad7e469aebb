"""Video visits: the room of a confirmed video appointment (who may enter, and when), its
join/leave log and presence, the ICE servers and TURN credentials given to the browsers, and
a clinic's external meeting link. Signalling itself is relayed by app/sockets/visits.py after
these rules allow it; no media passes through or is kept by the server."""
