"""User-facing errors: the CLI prints the message as one line and exits with code 2."""


class UserError(Exception):
    """Bad input (unknown name, missing file, checksum mismatch, conflicting run dir...)."""
