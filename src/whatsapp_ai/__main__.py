"""`python -m whatsapp_ai` runs the command line."""

from whatsapp_ai.cli import app

app()
