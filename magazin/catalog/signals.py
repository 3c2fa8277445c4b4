"""The seam through which other apps follow the catalog, so that the catalog imports none of
them: what follows from a unit's description (its closure period, its place in the search
index), what an AIP holds beyond its description (decisions on access) and what a unit's
detail shows besides (its access status) are the business of whoever keeps them."""

from django.dispatch import Signal

# units are about to be written with a new or changed description (units=list[Unit]):
# receivers set the fields that follow from it (Unit.open_from, closure_reason, years, …)
describing = Signal()

# units were written with a new or changed description (units=list[Unit], new=bool):
# receivers bring what they derive from it up to date (the search index)
described = Signal()

# an AIP was read from storage into the catalog (rebuild, recovery): root=Unit,
# desc=AipDescription; receivers bring their rows in line with what the AIP holds
aip_read = Signal()

# a unit's detail is being put together (unit=Unit): receivers return a dict of further
# entries ({"access": …})
detail = Signal()

# objects of kinds the catalog does not keep itself were read from storage in a rebuild
# (home=Home, items=list of {"desc", "record", "object"}): receivers restore their rows
records_read = Signal()
