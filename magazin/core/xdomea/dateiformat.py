"""The xdomea Dateiformat code list (urn:xoev-de:xdomea:codeliste:dateiformat, version 1.0)
mapped to PRONOM: a delivered file whose identified format contradicts its declared code is
stored with a warning, never refused.

The code list names a file extension per code; a PRONOM format agrees with a code when its
registered extensions include that extension (so a PDF/A file agrees with "pdf"). Code 044
(PDF for archiving) also needs a PDF/A format; 100 (Sonstiges) agrees with anything.
"""

from __future__ import annotations

from collections.abc import Callable

from ..i18n import N_

# code -> (extension, description) as published in the code list
CODES: dict[str, tuple[str, str]] = {
    "001": ("bmp", "Windows Bitmap"),
    "002": ("csv", "Comma Separated Values"),
    "003": ("doc", "Microsoft Word for Windows Document"),
    "004": ("doc", "Microsoft Word for MS-DOS Document"),
    "005": ("doc", "Microsoft Word for Macintosh Document"),
    "006": ("eml", "Outlook Express Electronic Mail"),
    "007": ("htm", "Hypertext Markup Language"),
    "008": ("html", "Hypertext Markup Language"),
    "009": ("jpe", "JPEG File Interchange Format"),
    "010": ("jpeg", "JPEG File Interchange Format"),
    "011": ("jpg", "JPEG File Interchange Format"),
    "012": ("msg", "Microsoft Outlook Email Message"),
    "013": ("odp", "OpenDocument Presentation Format"),
    "014": ("ods", "OpenDocument Spreadsheet Format"),
    "015": ("odt", "OpenDocument Text Format"),
    "016": ("otp", "OpenDocument Presentation Format Template"),
    "017": ("ots", "OpenDocument Spreadsheet Format Template"),
    "018": ("pdf", "Portable Document Format"),
    "019": ("png", "Portable Network Graphics"),
    "020": ("ppt", "Microsoft PowerPoint"),
    "021": ("ps", "PostScript"),
    "022": ("rtf", "Rich Text Format"),
    "023": ("tif", "Tagged Image File Format"),
    "024": ("tiff", "Tagged Image File Format"),
    "025": ("wps", "Microsoft Works for Windows"),
    "026": ("xlc", "Microsoft Excel Chart"),
    "027": ("xlm", "Microsoft Excel Macro"),
    "028": ("xls", "Binary Interchange File Format (BIFF) Worksheet"),
    "029": ("xlw", "Binary Interchange File Format (BIFF) Workbook"),
    "030": ("xml", "eXtensible Markup Language"),
    "031": ("xsd", "XML Schema Definition"),
    "032": ("dot", "Microsoft Word Template"),
    "033": ("pot", "Microsoft Powerpoint Design Template"),
    "034": ("xlt", "Microsoft Excel Template"),
    "035": ("docx", "Office Open XML Text"),
    "036": ("xlsx", "Office Open XML Spreadsheet"),
    "037": ("pptx", "Office Open XML Presentation"),
    "038": ("dotx", "Office Open XML Text Template"),
    "039": ("xltx", "Office Open XML Spreadsheet Template"),
    "040": ("potx", "Office Open XML Presentation Template"),
    "041": ("dtd", "Document Type Definition"),
    "042": ("mpp", "Microsoft Project"),
    "043": ("ott", "OpenDocument Text Format Template"),
    "044": ("pdf", "Portable Document Format (Archival)"),
    "045": ("txt", "Unicode Text File"),
    "100": ("", "Sonstiges"),
}
# extensions that name the same thing
_SAME = {"htm": {"html"}, "html": {"htm"}, "tif": {"tiff"}, "tiff": {"tif"}}
for _e in ("jpe", "jpeg", "jpg"):
    _SAME[_e] = {"jpe", "jpeg", "jpg"}


def describe(code: str) -> str:
    ext, name = CODES.get(code, ("", ""))
    return f"{code} ({ext} - {name})" if ext else f"{code} ({name or 'unknown code'})"


def contradiction(
    code: str, puid: str | None, format_name: str | None, extensions: Callable[[str], list[str]]
) -> str | None:
    """Why the identified format contradicts the declared code, or None if it agrees (or the
    code says nothing: Sonstiges, or a code outside the list)."""
    if code not in CODES or code == "100":
        return None
    ext = CODES[code][0]
    if puid is None:
        return N_("declared format {code}, but the format could not be identified").format(
            code=describe(code)
        )
    known = {e.lower().lstrip(".") for e in extensions(puid)}
    if not known & ({ext} | _SAME.get(ext, set())):
        if format_name:
            return N_("declared format {code}, identified {puid} ({name})").format(
                code=describe(code), puid=puid, name=format_name
            )
        return N_("declared format {code}, identified {puid}").format(
            code=describe(code), puid=puid
        )
    if code == "044" and "PDF/A" not in (format_name or ""):
        return N_("declared format {code}, identified {puid} ({name}), not PDF/A").format(
            code=describe(code), puid=puid, name=format_name
        )
    return None
