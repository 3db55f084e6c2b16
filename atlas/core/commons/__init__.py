"""Wikimedia Commons: the description page, wikitext escaping, the told procedure, file names and export."""
