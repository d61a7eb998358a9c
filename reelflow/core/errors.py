"""ReelFlow's error tree (domain level). Service clients add their own typed tree in
``clients/errors.py``; both derive from :class:`ReelFlowError`.

- ``ReelFlowError``           base; ``exit_code`` is what the CLI returns.
  - ``InputError``            bad user input (brief, file, option): exit 2, never retried.
  - ``AssetError``            a shipped asset is missing/unreadable: exit 2 with a reinstall hint.
  - ``ConfigurationError``    settings/keys are wrong: exit 2, names the variable.
  - ``ProcessingError``       a local step failed (ffmpeg, TTS, index): exit 1, may be retried.
  - ``IndexMismatchError``    a persisted index does not match the encoder/checksum: exit 2.
  - ``CorruptStateError``     a job ledger or other state file is unreadable (never reset): exit 2.
"""

from __future__ import annotations


class ReelFlowError(Exception):
    """Base of every error ReelFlow raises on purpose."""

    exit_code: int = 1
    retryable: bool = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class InputError(ReelFlowError):
    """Bad input: names the input and how to fix it. CLI exit code 2."""

    exit_code = 2


class AssetError(ReelFlowError):
    """A bundled asset is missing or unreadable. CLI exit code 2."""

    exit_code = 2


class ConfigurationError(ReelFlowError):
    """A setting or key is missing/invalid/rejected; the message names the variable."""

    exit_code = 2


class ProcessingError(ReelFlowError):
    """A local processing step failed (ffmpeg, TTS, rendering). Retryable by the flow."""

    exit_code = 1
    retryable = True


class IndexMismatchError(ReelFlowError):
    """A persisted index does not match the current encoder or is corrupt."""

    exit_code = 2


class CorruptStateError(ReelFlowError):
    """A state file ReelFlow relies on to avoid paying twice (a job ledger) is unreadable.

    Never silently reset: the file is named and kept, and the hint says how to recover.
    CLI exit code 2; not retried.
    """

    exit_code = 2
