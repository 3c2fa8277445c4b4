"""JPEG 2000 (JP2): jpylyzer, the validator of the JP2 format and its codestream."""

from __future__ import annotations

from ...i18n import N_
from . import Validation, ValidatorPolicy, invalid, not_validated, valid


def tool() -> str:
    from jpylyzer import jpylyzer

    return f"jpylyzer {jpylyzer.__version__}"


def validate(path: str, policy: ValidatorPolicy, puid: str | None = None, **_) -> Validation:
    try:
        from jpylyzer import jpylyzer
    except ImportError:
        return not_validated("jpylyzer", N_("jpylyzer is not available"))
    name = tool()
    report = jpylyzer.checkOneFile(path, "jp2")
    warnings = [w.text or "" for w in report.iter("warning")]
    if report.findtext("isValid") == "True":
        return valid(name, N_("valid JP2"), warnings)
    failed = []

    def walk(el, where: str) -> None:
        for c in el:
            if c.text == "False":
                failed.append(f"{where}/{c.tag}".lstrip("/"))
            walk(c, f"{where}/{c.tag}")

    tests = report.find("tests")
    if tests is not None:
        walk(tests, "")
    return invalid(name, [N_("test failed: {test}").format(test=t) for t in failed] + warnings)
