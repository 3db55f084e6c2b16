"""Reading and writing the metadata that travels inside image files."""
