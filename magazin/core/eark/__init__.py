"""E-ARK information packages (CSIP/SIP/AIP/DIP 2.x): reading them safely, validating them
against the profile of the version they declare, and writing them."""
