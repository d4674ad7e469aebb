"""Use cases: plain Python, one transaction each, the only place domain rules live."""
