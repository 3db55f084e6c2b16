"""The terminal UI (`atlas tui`): Textual screens and widgets over atlas.core; no catalogue logic here."""
