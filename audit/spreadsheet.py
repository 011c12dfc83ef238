"""Making exported text safe to open in a spreadsheet."""

# Excel and LibreOffice read a cell that starts with one of these as a formula. IAM names may start
# with "=", "+", "-" and "@", and person names come from imported files.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """Return `text` with a leading apostrophe when a spreadsheet would run it as a formula."""
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text
