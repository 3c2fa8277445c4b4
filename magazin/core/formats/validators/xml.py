"""XML: well-formed (no entity expansion, no network, no DTD loading), and valid against its
schema where the schema is known and installed (the official xdomea sets)."""

from __future__ import annotations

from lxml import etree

from ...i18n import N_
from . import Validation, ValidatorPolicy, invalid, valid

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False)  # fmt: skip


def tool() -> str:
    return f"libxml2 {'.'.join(map(str, etree.LIBXML_VERSION))} (lxml {etree.__version__})"


def validate(path: str, policy: ValidatorPolicy, **_) -> Validation:
    name = tool()
    try:
        tree = etree.parse(path, _PARSER)
    except etree.XMLSyntaxError as e:
        return invalid(name, [N_("not well-formed: {error}").format(error=e)])
    except OSError as e:
        return invalid(name, [str(e)])
    root = tree.getroot()
    if tree.docinfo.internalDTD is not None and _declares_entities(tree):
        return invalid(name, [N_("declares entities (refused: entity expansion)")])
    schema = _installed_schema(root, policy.home)
    if schema is None:
        return valid(name, N_("well-formed; no installed schema for {{{ns}}}{tag}").format(
            ns=etree.QName(root).namespace or "", tag=etree.QName(root).localname))  # fmt: skip
    label, xsd = schema
    if xsd.validate(tree):
        return valid(name, N_("well-formed and valid against {schema}").format(schema=label))
    return invalid(name, [f"{e.line}: {e.message}" for e in xsd.error_log],
                   N_("not valid against {schema}").format(schema=label))  # fmt: skip


def _declares_entities(tree) -> bool:
    dtd = tree.docinfo.internalDTD
    return any(True for _ in dtd.iterentities()) if dtd is not None else False


def _installed_schema(root, home: str | None):
    """(label, XMLSchema) for an xdomea message when its schema set is installed."""
    from pathlib import Path

    from ...xdomea.schemas import NAMESPACE, installed, schema_for

    m = NAMESPACE.match(etree.QName(root).namespace or "")
    if not m or not home or m.group(1) not in installed(Path(home)):
        return None
    return f"xdomea {m.group(1)}", schema_for(Path(home), m.group(1))
