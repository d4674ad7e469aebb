"""Doctor dashboard pages."""
