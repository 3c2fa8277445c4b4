"""Audio and video (WAVE, Matroska/FFV1, MP4): MediaConch's implementation checks and a policy
for the container, then a full decode of every stream with ffmpeg, whose every complaint
counts (ffmpeg itself ends with 0 on a truncated file)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from lxml import etree

from ...i18n import N_
from ...programs import program_version
from . import Validation, ValidatorPolicy, invalid, not_validated, valid

POLICIES = Path(__file__).with_name("policies")
_MC = "{https://mediaarea.net/mediaconch}"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
# ffmpeg's notes that say nothing about the file's soundness
_BENIGN = re.compile(r"Guessed Channel Layout")
_ADDRESS = re.compile(r" @ 0x[0-9a-f]+")


def tool() -> str:
    return (f"MediaConch {program_version('mediaconch', '--version') or '?'}, "
            f"ffmpeg {program_version('ffmpeg', '-version') or '?'}")  # fmt: skip


def _policy(path: str) -> Path:
    suffix = Path(path).suffix.lower()
    head = Path(path).open("rb").read(12)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return POLICIES / "wave.xml"
    if head[:4] == b"\x1a\x45\xdf\xa3" or suffix in (".mkv", ".mka", ".webm"):
        return POLICIES / "matroska.xml"
    return POLICIES / "mp4.xml"


def validate(path: str, policy: ValidatorPolicy, **_) -> Validation:
    if not shutil.which("mediaconch") or not shutil.which("ffmpeg"):
        return not_validated("MediaConch, ffmpeg", N_("MediaConch or ffmpeg is not installed"))
    name = tool()
    limit = max(policy.timeout_s - 5, 5)
    problems: list[str] = []
    try:
        # MediaConch keeps a database of reports by file name under $HOME, shared by every
        # run at once and answering from it for a path seen before: each run gets its own
        with tempfile.TemporaryDirectory(prefix="mediaconch-") as own:
            env = {**os.environ, "HOME": own, "XDG_DATA_HOME": own, "XDG_CONFIG_HOME": own}
            for args in (["-mc"], ["-p", str(_policy(path))]):
                run = subprocess.run(["mediaconch", *args, "-fx", path], capture_output=True,
                                     timeout=limit, stdin=subprocess.DEVNULL, env=env)  # fmt: skip
                problems += _mediaconch_failures(run.stdout)
        run = subprocess.run(
            ["ffmpeg", "-nostdin", "-hide_banner", "-v", "warning", "-i", path, "-map", "0",
             "-f", "null", "-"],
            capture_output=True, timeout=limit, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return not_validated(name, N_("timed out"))
    # "[matroska,webm @ 0x55f2…]": the address changes with every run, the message does not
    decode = [_ADDRESS.sub("", ln).strip() for ln in run.stderr.decode("utf-8", "replace")
              .splitlines() if ln.strip() and not _BENIGN.search(ln)]  # fmt: skip
    if run.returncode != 0 and not decode:
        decode = [N_("ffmpeg ended with {code}").format(code=run.returncode)]
    problems += [N_("decoding: {message}").format(message=m) for m in decode]
    if problems:
        return invalid(name, problems)
    return valid(name, N_("MediaConch checks and policy passed; every stream decoded"))


def _mediaconch_failures(report: bytes) -> list[str]:
    try:
        root = etree.fromstring(report, _PARSER)
    except etree.XMLSyntaxError:
        return [N_("MediaConch gave no report")]
    out = []
    for check in root.iter(f"{_MC}check"):
        if int(check.get("fail_count", "0")):
            where = [v.get("context") or v.get("name") or "" for v in check.iter(f"{_MC}value")]
            out.append(N_("implementation check {check} failed ({where})").format(
                check=check.get("icid", "?"), where=", ".join(w for w in where if w)))  # fmt: skip
    for media in root.iter(f"{_MC}media"):
        for policy in media.iterchildren(f"{_MC}policy"):
            out += [N_("policy rule failed: {rule}").format(rule=name)
                    for name in _failed_rules(policy)]  # fmt: skip
    return out


def _failed_rules(element: etree._Element) -> list[str]:
    """The names of what made a policy fail: the failed rules and sub-policies of an `and`;
    an `or` (every branch failed) by its own name. A branch that failed inside a passing `or`
    is no failure (a Matroska file needs a video *or* an audio track)."""
    if element.get("outcome") != "fail":
        return []
    if element.tag == f"{_MC}rule" or element.get("type") == "or":
        return [element.get("name", "?")]
    return [name for child in element if child.tag in (f"{_MC}rule", f"{_MC}policy")
            for name in _failed_rules(child)]  # fmt: skip
