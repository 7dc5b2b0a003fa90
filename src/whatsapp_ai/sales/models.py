"""Sales tables: a tenant's catalog, orders built in chat, leads and payment settings."""

from __future__ import annotations
