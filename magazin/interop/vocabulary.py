"""The words the Archivportal-D knows, kept once: the archive types (Archivsparten) of
EAD(DDB) 1.2 (`corpname/@role`, enumerated in its XSD 1.1 variant), the federal states,
and what happens to descriptions under a closure period for persons or secrecy."""

from __future__ import annotations

from magazin.core.i18n import N_

# our short name -> the DDB's value (German: it is the schema's vocabulary) and a label
ARCHIVE_TYPES: dict[str, tuple[str, str]] = {
    "staatlich": ("Staatliche Archive", N_("State archives")),
    "kommunal": ("Kommunale Archive", N_("Municipal archives")),
    "kirchlich": ("Kirchliche Archive", N_("Church archives")),
    "herrschaft": ("Herrschafts- und Familienarchive", N_("Manorial and family archives")),
    "wirtschaft": ("Wirtschaftsarchive", N_("Business archives")),
    "parlamente": ("Archive der Parlamente, politischen Parteien, Stiftungen und Verbände",
                   N_("Archives of parliaments, political parties, foundations and associations")),
    "medien": ("Medienarchive", N_("Media archives")),
    "hochschule": ("Archive der Hochschulen sowie wissenschaftlicher Institutionen",
                   N_("Archives of universities and research institutions")),
    "sonstige": ("Sonstige", N_("Other archives")),
}  # fmt: skip

# the federal states (Bundesländer) the Tektonik's archdesc/did/repository/@label names
STATES = ("Baden-Württemberg", "Bayern", "Berlin", "Brandenburg", "Bremen", "Hamburg", "Hessen",
          "Mecklenburg-Vorpommern", "Niedersachsen", "Nordrhein-Westfalen", "Rheinland-Pfalz",
          "Saarland", "Sachsen", "Sachsen-Anhalt", "Schleswig-Holstein", "Thüringen")  # fmt: skip

# descriptions under a closure period for persons or secrecy: left out, or shown reduced
CLOSED_DESCRIPTIONS = ("omit", "reduced")


def portal_missing(tenant, tektonik: bool = True) -> list[str]:
    """The `magazin tenant set` options still missing for the portal to name the tenant (a
    Findbuch needs ISIL and archive type; a Tektonik, and so OAI-PMH, the state as well)."""
    wanted = [("--isil", tenant.isil), ("--archive-type", tenant.archive_type)]
    if tektonik:
        wanted.append(("--state", tenant.state))
    return [option for option, value in wanted if not value]
