"""warehouse layer (see DESIGN.md §2)."""
