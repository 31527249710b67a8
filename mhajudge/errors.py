"""Errors on the judge's side: the judge could not judge (exit code 2)."""


class JudgeError(Exception):
    """Something the user can fix: unknown problem, missing file, bad flag.

    The CLI prints the message (and ``hint``) without a traceback and exits 2.
    """

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


class SpecError(JudgeError):
    """A problem spec is invalid; the message names the file and the field."""
