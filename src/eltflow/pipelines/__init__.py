"""pipelines layer (see DESIGN.md §2)."""
