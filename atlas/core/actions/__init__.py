"""Use cases shared by the CLI and the TUI: each takes a Catalogue and ids, returns plain data."""
