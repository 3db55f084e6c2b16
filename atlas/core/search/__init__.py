"""Search: the query language, its SQL, and the rows a search returns."""
