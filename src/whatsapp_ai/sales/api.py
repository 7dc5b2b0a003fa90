"""Sales REST API (tenant-scoped)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/sales", tags=["sales"])
