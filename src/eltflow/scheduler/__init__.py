"""scheduler layer (see DESIGN.md §2)."""
