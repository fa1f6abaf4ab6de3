"""GET /lexicons: the pronunciation lexicons every request gets."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from sayfile.api.deps import CatalogueDep

router = APIRouter(tags=["voices"])


@router.get("/lexicons", summary="The pronunciation lexicons loaded (SAYFILE_LEXICON_DIR)")
async def list_lexicons(catalogue: CatalogueDep) -> list[dict[str, Any]]:
    """One row per file and language: `source` (the file), `language`, `entries`. A request
    adds its own entries with its `lexicon` field."""
    return catalogue.lexicons()
