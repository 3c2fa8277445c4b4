"""Errors that the CLI, web and API report to the user as a failed request (exit code 1)."""


class Failure(Exception):
    """A request that cannot be carried out: unknown AID, no good copy, bad location name…"""
