"""The render queue: runs recorded in the catalogue, handed to workers through procrastinate.

The queue lives in the catalogue's own PostgreSQL database (procrastinate's tables beside atlas's),
so a run and its job are committed in one transaction. A job names a run id; a worker resumes that
run at its first unfinished pass (`atlas.engine.runner.resume`), so a job retried after its worker
died continues where the dead worker stopped. The engine is imported only where a job runs.
"""
