"""The provenance record: renders, passes, runs, models, licences and tags, built and written."""
