"""Screens of the TUI: the main browser, the render detail, help and small dialogs."""
