"""What travels inside image files: PNG chunks, A1111 infotext, XMP, EXIF, C2PA; read and written without a database."""
