"""Exchange with the archival world: EAD(DDB) finding aids for the Archivportal-D / Deutsche
Digitale Bibliothek (and later OAI-PMH and the AFIS link). What may be published follows
archive law (`publication`)."""
