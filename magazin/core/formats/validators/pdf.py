"""PDF: structure with qpdf (through pikepdf), and a PDF/A claim checked for what can be checked
without a PDF/A validator: the XMP identification (part, conformance), no encryption, an
output intent, every font embedded. That result is "PDF/A structure checks passed", never
"valid PDF/A" - unless a veraPDF command is configured, whose report decides."""

from __future__ import annotations

import io
import re
import subprocess

from lxml import etree

from ...i18n import N_
from . import Validation, ValidatorPolicy, invalid, not_validated, valid

PDFA_PUIDS = {"fmt/95", "fmt/354", "fmt/476", "fmt/477", "fmt/478", "fmt/479", "fmt/480",
              "fmt/481", "fmt/1910", "fmt/1911", "fmt/1912"}  # fmt: skip
_PDFAID = "http://www.aiim.org/pdfa/ns/id/"
_NO_OPERATOR = "magazin-keeps-no-operator"  # an operator filter no content stream matches
_LINEARIZATION = re.compile(r"lineariz|hint table|shared object|shared identifier", re.I)


def tool() -> str:
    import pikepdf

    return f"pikepdf {pikepdf.__version__} (qpdf {pikepdf.__libqpdf_version__})"


def validate(path: str, policy: ValidatorPolicy, **_) -> Validation:
    try:
        import pikepdf
    except ImportError:
        return not_validated("pikepdf", N_("pikepdf is not available"))
    name = tool()
    try:
        # no recovery: a damaged cross-reference table or a truncated file is an error here,
        # not something to work around
        pdf = pikepdf.open(path, attempt_recovery=False)
    except pikepdf.PasswordError:
        return invalid(name, [N_("encrypted with a password: cannot be read without it")])
    except pikepdf.PdfError as e:
        return invalid(name, [str(e)])
    with pdf:
        found = _syntax_problems(pdf) + [str(w) for w in pdf.get_warnings()]
        # linearization (fast web view) hints that do not match the file change nothing of
        # the document: noted, not counted against it
        notes = [p for p in found if _LINEARIZATION.search(p)]
        problems = [p for p in found if p not in notes]
        pages = len(pdf.pages)
        if problems:
            return invalid(name, problems)
        claim = _pdfa_claim(pdf)
        if claim is None:
            return valid(
                name, N_("PDF structure valid, {pages} page(s)").format(pages=pages), notes
            )
        if policy.verapdf:
            return _verapdf(path, policy, claim)
        failed = _pdfa_checks(pdf)
    if failed:
        return invalid(
            name, failed, N_("PDF/A-{claim} claimed; PDF/A structure checks failed").format(
                claim=claim)
        )  # fmt: skip
    return valid(
        name,
        N_("PDF/A-{claim} claimed: PDF/A structure checks passed (XMP identification, no "
           "encryption, output intent, fonts embedded; not a full PDF/A validation)").format(
            claim=claim),
    )  # fmt: skip


def _syntax_problems(pdf) -> list[str]:
    """What `qpdf --check` finds, step by step as pikepdf's `check_pdf_syntax` takes them:
    linearization, the document structures, every stream decoded, every page's content
    parsed. The content is parsed inside qpdf with an operator filter that keeps nothing
    (a Python callback per token, as `check_pdf_syntax` has, takes twice the time); a
    tokenizer error is a warning either way."""
    import pikepdf

    problems: list[str] = []

    def collect() -> None:
        problems.extend(f"WARNING: {w}" for w in pdf.get_warnings())

    if pdf.is_linearized:
        pdf.check_linearization(io.StringIO())
    pdf._check_document_structures()
    if len(pdf.pages) == 0:
        collect()
        problems.append("ERROR: file does not contain any pages")
    pdf._decode_all_streams_and_discard(None)
    for number, page in enumerate(pdf.pages, start=1):
        try:
            page.obj._parse_page_contents_grouped(_NO_OPERATOR)
        except pikepdf.PdfError as e:
            collect()
            problems.append(f"ERROR: page {number}: {e}")
    collect()
    return problems


def _pdfa_claim(pdf) -> str | None:
    """'2b' for a file whose XMP says pdfaid:part 2, conformance B; None: no claim."""
    try:
        raw = bytes(pdf.Root.Metadata.read_bytes()) if "/Metadata" in pdf.Root else b""
    except Exception:  # noqa: BLE001 - a broken metadata stream is no claim
        return None
    if b"pdfaid" not in raw:
        return None
    try:
        root = etree.fromstring(
            raw[raw.find(b"<") :],
            etree.XMLParser(resolve_entities=False, no_network=True, recover=True),
        )
    except etree.XMLSyntaxError:
        return None
    if root is None:
        return None
    part = conformance = ""
    for el in root.iter():
        for k, v in el.attrib.items():  # pdfaid:part="2" as an attribute
            if k == f"{{{_PDFAID}}}part":
                part = v
            elif k == f"{{{_PDFAID}}}conformance":
                conformance = v
        if el.tag == f"{{{_PDFAID}}}part":
            part = (el.text or "").strip()
        elif el.tag == f"{{{_PDFAID}}}conformance":
            conformance = (el.text or "").strip()
    return f"{part}{conformance.lower()}" if part else None


def _pdfa_checks(pdf) -> list[str]:
    failed = []
    if pdf.is_encrypted:
        failed.append(N_("PDF/A forbids encryption; the file is encrypted"))
    intents = pdf.Root.get("/OutputIntents")
    if not intents or not any(str(i.get("/S", "")) == "/GTS_PDFA1" for i in intents):
        failed.append(N_("no PDF/A output intent (/OutputIntents with /S /GTS_PDFA1)"))
    for font in sorted(_unembedded_fonts(pdf)):
        failed.append(N_("font {font} is not embedded").format(font=font))
    return failed


def _unembedded_fonts(pdf) -> set[str]:
    missing: set[str] = set()
    seen: set = set()

    def fonts_of(resources) -> None:
        if resources is None or resources.objgen in seen and resources.objgen != (0, 0):
            return
        seen.add(resources.objgen)
        for font in (resources.get("/Font") or {}).values():
            check(font)
        for xobj in (resources.get("/XObject") or {}).values():
            if xobj.get("/Subtype") == "/Form":
                fonts_of(xobj.get("/Resources"))

    def check(font) -> None:
        subtype = str(font.get("/Subtype", ""))
        if subtype == "/Type3":
            fonts_of(font.get("/Resources"))
            return
        if subtype == "/Type0":
            for d in font.get("/DescendantFonts") or []:
                check(d)
            return
        desc = font.get("/FontDescriptor")
        if desc is None or not any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")):
            missing.add(str(font.get("/BaseFont", "?")).lstrip("/"))

    for page in pdf.pages:
        fonts_of(page.obj.get("/Resources"))
    return missing


def _verapdf(path: str, policy: ValidatorPolicy, claim: str) -> Validation:
    """The configured veraPDF decides: its machine-readable report's compliance flag."""
    cmd = [policy.verapdf, "--format", "mrr", path]
    try:
        run = subprocess.run(cmd, capture_output=True, timeout=max(policy.timeout_s - 5, 5))
    except (OSError, subprocess.TimeoutExpired) as e:
        return not_validated("veraPDF", N_("veraPDF did not run: {error}").format(error=e))
    try:
        report = etree.fromstring(run.stdout, etree.XMLParser(resolve_entities=False,
                                                              no_network=True))  # fmt: skip
    except etree.XMLSyntaxError:
        return not_validated("veraPDF", N_("veraPDF gave no report (exit code {code})").format(
            code=run.returncode))  # fmt: skip
    tool_name = "veraPDF"
    rd = report.find(".//releaseDetails[@id='core']")
    if rd is not None and rd.get("version"):
        tool_name = f"veraPDF {rd.get('version')}"
    vr = report.find(".//validationReport")
    if vr is None:
        return not_validated(tool_name, N_("veraPDF's report holds no validation result"))
    profile = vr.get("profileName", f"PDF/A-{claim}")
    if vr.get("isCompliant") == "true":
        return valid(tool_name, N_("valid {profile} (veraPDF)").format(profile=profile))
    messages = [
        f"{r.get('clause', '')}-{r.get('testNumber', '')}: "
        + " ".join((r.findtext("description") or "").split())
        for r in vr.iter("rule")
        if r.get("status") == "failed"
    ]
    return invalid(tool_name, messages or [N_("not compliant")],
                   N_("not valid {profile} (veraPDF)").format(profile=profile))  # fmt: skip
