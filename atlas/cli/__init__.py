"""The `atlas` command line: thin commands over the core and the engine."""
