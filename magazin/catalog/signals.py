"""The seam through which other apps follow the catalog, so that the catalog imports none of
them: what an AIP holds beyond its description (decisions on access) is taken up by whoever
keeps it."""

from django.dispatch import Signal

# an AIP was read from storage into the catalog (rebuild, recovery): root=Unit,
# desc=AipDescription; receivers bring their rows in line with what the AIP holds
aip_read = Signal()
