"""Reading one xdomea message container: checked and schema-validated before anything else.

A records system delivers `<ProzessID>_<Nachrichtenname>.zip` holding
`<ProzessID>_<Nachrichtenname>.xml` (and, for a 0503, the primary documents beside it). The
ZIP is checked like a SIP (paths, links, encryption, zip bombs), the XML is parsed without
DTDs or entities (XXE, billion laughs), its version taken from its namespace, and it is
validated against the installed XSD set of that version. Every fault is a `MessageError`
naming the file and the problem, with a stable code.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ..aip.xml import UnsafeXML, parse_xml
from ..i18n import N_
from ..problems import ProblemList
from ..sip.limits import Limits
from ..sip.model import PayloadFile
from ..sip.zipsip import open_zip, scan_zip
from .schemas import NAMESPACE, SchemaError, schema_for

NAME = re.compile(r"^(?P<pid>[^_/\\]+)_(?P<name>Aussonderung\.[A-Za-z]+\.(?P<code>\d{4}))\.zip$")
MAX_XML = 256 << 20  # a message XML above this is refused, not parsed


class MessageError(ValueError):
    def __init__(self, path: str, reason: str, code: str):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason, self.code = path, reason, code


@dataclass
class Message:
    path: Path
    process_id: str
    name: str  # e.g. Aussonderung.Anbieteverzeichnis.0501
    code: str  # e.g. 0501
    version: str  # e.g. 3.0.0
    root: etree._Element
    documents: list[str] = field(default_factory=list)  # other entries of the ZIP
    xml: bytes = field(default=b"", repr=False)  # the message XML as received
    entries: dict[str, PayloadFile] = field(default_factory=dict, repr=False)  # if kept open
    _zip: zipfile.ZipFile | None = field(default=None, repr=False)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None

    @property
    def ns(self) -> str:
        return f"urn:xoev-de:xdomea:schema:{self.version}"


def read_message(
    path: Path, home: Path, limits: Limits | None = None, keep_open: bool = False
) -> Message:
    """Read, check and validate the message container at `path`; with `keep_open` the ZIP
    stays open for reading the primary documents (`Message.entries`; call `close()`)."""
    m = NAME.match(path.name)
    if m is None:
        raise MessageError(
            path.name,
            N_("not named like an xdomea message: <ProzessID>_Aussonderung.<Name>.<Code>.zip"),
            "bad-name",
        )
    pid, name, code = m["pid"], m["name"], m["code"]
    problems = ProblemList()
    zf = open_zip(path, problems)
    if zf is None:
        raise MessageError(path.name, problems.items[0].reason, "bad-zip")
    try:
        entries = scan_zip(zf, path, problems, limits or Limits())
        if problems.items:
            p = problems.items[0]
            raise MessageError(p.path, p.reason, p.code)
        xml_name = f"{pid}_{name}.xml"
        xml = next((e for e in entries if e.path == xml_name), None)
        if xml is None:
            raise MessageError(
                path.name,
                N_("the message XML {file} is missing").format(file=xml_name),
                "no-message",
            )
        if xml.size > MAX_XML:
            raise MessageError(
                xml_name,
                N_("{size} bytes: too large for a message").format(size=xml.size),
                "too-large",
            )
        with xml.opener() as f:
            data = f.read()
        documents = sorted(e.path for e in entries if e.path != xml_name)
        msg = _parse(path, pid, name, code, xml_name, data, home, documents)
    except BaseException:
        zf.close()
        raise
    if keep_open:
        msg.entries = {e.path: e for e in entries if e.path != xml_name}
        msg._zip = zf
    else:
        zf.close()
    return msg


def _parse(
    path: Path,
    pid: str,
    name: str,
    code: str,
    xml_name: str,
    data: bytes,
    home: Path,
    documents: list[str],
) -> Message:
    try:
        root = parse_xml(data, xml_name)
    except UnsafeXML as e:
        raise MessageError(xml_name, str(e).split(": ", 1)[1], "bad-xml") from None
    qn = etree.QName(root)
    v = NAMESPACE.match(qn.namespace or "")
    if v is None:
        raise MessageError(
            xml_name,
            N_("not an xdomea message (namespace {namespace!r})").format(namespace=qn.namespace),
            "bad-namespace",
        )
    version = v.group(1)
    if qn.localname != name:
        raise MessageError(
            xml_name,
            N_("the file is named {name} but holds {element}").format(
                name=name, element=qn.localname
            ),
            "name-mismatch",
        )
    try:
        schema = schema_for(home, version)
    except SchemaError as e:
        raise MessageError(xml_name, str(e), "schema-missing") from None
    if not schema.validate(root):
        err = schema.error_log.last_error
        raise MessageError(
            xml_name,
            N_("not valid against xdomea {version}: line {line}: {error}").format(
                version=version, line=err.line, error=err.message
            ),
            "invalid",
        )
    found = root.findtext(f"{{{qn.namespace}}}Kopf/{{{qn.namespace}}}ProzessID")
    if (found or "").strip() != pid:
        raise MessageError(
            xml_name,
            N_("ProzessID {found!r} in the Kopf differs from the file name's {expected!r}").format(
                found=found, expected=pid
            ),
            "process-mismatch",
        )
    return Message(path, pid, name, code, version, root, documents, data)
