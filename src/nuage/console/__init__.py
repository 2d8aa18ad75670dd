"""Web console: server-rendered pages at /console (issue 6)."""
