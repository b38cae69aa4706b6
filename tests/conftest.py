"""Where the tests find the data that lives beside the checkout, in ``../shared`` (never at an absolute path)."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
DESIGN_DOCUMENT = SHARED / "seed" / "000_8af3a54bd7f46296.txt"
HISTORIES = SHARED / "data" / "histories"


@pytest.fixture(scope="session")
def design_document() -> str:
    """The design document the claims quote (UTF-8), or a skip saying where it comes from."""
    if not DESIGN_DOCUMENT.is_file():
        pytest.skip(f"the design document is not at {DESIGN_DOCUMENT} (it sits in ../shared/seed/ beside the "
                    f"checkout); claim quotes cannot be checked")
    return DESIGN_DOCUMENT.read_text(encoding="utf-8")
