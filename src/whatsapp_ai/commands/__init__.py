"""The bodies of the `whatsapp-ai` commands, one module per group.

`whatsapp_ai.cli` declares the commands and imports a module here only when its command runs, so
`--help` and `chat` never load the application.
"""
