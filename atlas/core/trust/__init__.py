"""Trust: the local signing identity and C2PA signing of renders as they are written."""
