"""Knowledge tables: a tenant's documents and their searchable chunks."""

from __future__ import annotations
