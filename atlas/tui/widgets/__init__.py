"""Widgets of the TUI: search bar, results table, detail pane, lineage tree, preview."""
