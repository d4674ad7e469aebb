"""Patient pages."""
