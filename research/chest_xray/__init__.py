"""Chest X-ray research: the outside-hospital proxy (README.md)."""
