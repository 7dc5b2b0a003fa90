"""The operator console: server-rendered pages under /console, updated live over the events."""
