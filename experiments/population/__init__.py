"""Populations: many agents meeting, scoring and copying each other, generation after generation."""
