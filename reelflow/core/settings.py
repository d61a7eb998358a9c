"""Settings: one pydantic-settings object, built at the entrypoint and passed down.

Environment: prefix ``REELFLOW_`` with ``__`` between nested sections
(``REELFLOW_STORAGE__URI=s3://bucket/prefix``); the services' conventional variables
(``OPENAI_API_KEY``, ``HUME_API_KEY`` ...) are read under their own names. A ``.env`` file in
the working directory is read too. Nothing here does I/O at import time.
Every variable is listed in ``.env.example``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The installed ``reelflow`` package folder; bundled assets are its package data.
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
#: Bundled fonts, music, footage, catalogue, briefs (package data: works from a wheel too).
ASSETS_DIR = PACKAGE_ROOT / "assets"


def _project_root() -> Path:
    """The source checkout when running from one (caches and outputs stay beside the code, as
    before), else the working directory (an installed wheel must not write into site-packages)."""
    repo = PACKAGE_ROOT.parent
    return repo if (repo / "pyproject.toml").is_file() else Path.cwd()


#: Where caches (``.reelflow/cache``) and default outputs (``outputs/``) live.
REPO_ROOT = _project_root()


def _alias(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class PathsSettings(BaseModel):
    """Where ReelFlow reads assets and keeps caches."""

    assets_dir: Path = Field(default=ASSETS_DIR, description="Bundled fonts, music, footage, catalogue.")
    cache_dir: Path = Field(
        default=REPO_ROOT / ".reelflow" / "cache",
        description="Song indexes, footage embeddings, intermediate media.",
    )
    outputs_dir: Path = Field(default=REPO_ROOT / "outputs", description="Default parent of --out folders.")
    allowed_roots: str = Field(
        default="",
        description="Extra folders (separated by ':' / os.pathsep) that paths given to flows as parameters "
        "may lie under, besides outputs_dir, cache_dir and (for reading) assets_dir. Anything else is refused "
        "(core/paths.py).",
    )


class StorageSettings(BaseModel):
    """Where finished outputs are published: a local folder (default) or ``s3://bucket/prefix``."""

    uri: str = Field(default="", description="Empty = keep outputs in the local out folder only.")
    multipart_threshold_mb: int = Field(default=16, ge=5)


class RenderSettings(BaseModel):
    """Encoding and loudness targets for the final video."""

    fps: int = Field(default=30, ge=12, le=60)
    target_lufs: float = Field(default=-14.0, ge=-40, le=-5)
    true_peak_dbtp: float = Field(default=-1.0, ge=-9, le=0)
    x264_preset: str = Field(default="veryfast", description="libx264 preset (speed/size trade-off).")
    crf: int = Field(default=20, ge=10, le=35)
    transition_s: float = Field(default=0.25, ge=0, le=1.0, description="Cross-fade between scenes.")
    music_duck_db: float = Field(default=14.0, ge=10, le=30, description="Bed level under speech, dB below.")


class RunnerSettings(BaseModel):
    """How flows fan out their tasks."""

    task_runner: str = Field(default="thread", description='"thread" (default) or "dask".')
    dask_address: str | None = Field(default=None, description="Existing Dask scheduler; None = local cluster.")
    dask_workers: int = Field(default=2, ge=1)
    max_concurrency: int = Field(default=2, ge=1, description="Parallel CPU-bound tasks per flow run.")


class Settings(BaseSettings):
    """All of ReelFlow's configuration.

    Service keys are ``SecretStr`` and never printed; a service is used remotely exactly when
    its key is set (see ``flows/_wiring.py``).
    """

    model_config = SettingsConfigDict(
        env_prefix="REELFLOW_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
        populate_by_name=True,
    )

    paths: PathsSettings = Field(default_factory=PathsSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    render: RenderSettings = Field(default_factory=RenderSettings)
    runner: RunnerSettings = Field(default_factory=RunnerSettings)
    song_index_uri: str = Field(
        default="",
        validation_alias=_alias("REELFLOW_SONG_INDEX_URI"),
        description="s3://bucket/prefix of the published song index: `songs index` publishes there, "
        "searches download it into the local cache (empty = local only).",
    )
    log_json: bool = Field(default=False, description="Structured JSON-lines logs.")
    prefect_secrets: bool = Field(
        default=False,
        description="Fill unset service keys from Prefect Secret blocks (openai-api-key, hume-api-key, "
        "runware-api-key, spotify-client-secret) when flows run.",
    )

    # --- remote services (conventional variable names) ---
    openai_api_key: SecretStr | None = Field(default=None, validation_alias=_alias("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(default=None, validation_alias=_alias("OPENAI_BASE_URL"))
    openai_model: str = Field(default="gpt-4o-mini", validation_alias=_alias("OPENAI_MODEL", "REELFLOW_OPENAI_MODEL"))
    hume_api_key: SecretStr | None = Field(default=None, validation_alias=_alias("HUME_API_KEY"))
    hume_base_url: str = Field(default="https://api.hume.ai", validation_alias=_alias("HUME_BASE_URL"))
    runware_api_key: SecretStr | None = Field(default=None, validation_alias=_alias("RUNWARE_API_KEY"))
    runware_base_url: str = Field(default="https://api.runware.ai/v1", validation_alias=_alias("RUNWARE_BASE_URL"))
    runware_model: str = Field(default="klingai:5@3", validation_alias=_alias("RUNWARE_MODEL", "REELFLOW_RUNWARE_MODEL"))
    spotify_client_id: str | None = Field(default=None, validation_alias=_alias("SPOTIFY_CLIENT_ID"))
    spotify_client_secret: SecretStr | None = Field(default=None, validation_alias=_alias("SPOTIFY_CLIENT_SECRET"))
    spotify_api_base_url: str = Field(
        default="https://api.spotify.com/v1", validation_alias=_alias("SPOTIFY_API_BASE_URL")
    )
    spotify_token_url: str = Field(
        default="https://accounts.spotify.com/api/token", validation_alias=_alias("SPOTIFY_TOKEN_URL")
    )
    media_hosts: str = Field(
        default="",
        validation_alias=_alias("REELFLOW_MEDIA_HOSTS"),
        description="Comma-separated allow-list of hosts media may be downloaded from "
        "(empty = the providers' own media hosts).",
    )
    allow_private_media: bool = Field(default=False, validation_alias=_alias("REELFLOW_ALLOW_PRIVATE_MEDIA"))
    # --- service client behaviour (clients/_http.py; one retry layer per call) ---
    hume_voice: str | None = Field(default=None, validation_alias=_alias("HUME_VOICE", "REELFLOW_HUME_VOICE"),
                                   description="Default Hume voice name or id when the brief names none.")
    hume_requests_per_minute: int = Field(default=100, ge=1, description="Client-side Hume rate limit.")
    service_deadline_s: float = Field(default=120.0, gt=0, description="Overall budget of one service call, retries included.")
    service_max_attempts: int = Field(default=6, ge=1, description="Tries per service call (first + retries).")
    service_backoff_max_s: float = Field(default=8.0, gt=0, description="Cap of the random-exponential backoff.")
    retry_after_cap_s: float = Field(default=60.0, ge=0, description="Longer Retry-After values fail fast.")
    runware_job_deadline_s: float = Field(default=900.0, gt=0, description="Poll deadline of one Runware job.")
    runware_poll_initial_s: float = Field(default=2.0, gt=0, description="First Runware poll interval (grows x1.5).")
    runware_max_jobs_per_clip: int = Field(default=3, ge=1, description="New jobs after failed/stuck ones, per clip.")

    @property
    def assets(self) -> Path:
        """Bundled assets folder."""
        return self.paths.assets_dir

    @property
    def cache(self) -> Path:
        """Cache folder (created on demand by the users of it)."""
        return self.paths.cache_dir


def load_settings(**overrides: object) -> Settings:
    """Build :class:`Settings` from the environment (and ``.env``), applying ``overrides``.

    Registers the service keys (and S3/Prefect credentials from the environment) for
    redaction and installs the redacting log-record factory (:mod:`core.redaction`).

    Raises:
        pydantic.ValidationError: a variable has an invalid value (the error names it).
    """
    from reelflow.core.redaction import install_log_redaction, register_env_secrets, register_secrets

    settings = Settings(**overrides)  # type: ignore[arg-type]
    register_secrets([settings.openai_api_key, settings.hume_api_key, settings.runware_api_key,
                      settings.spotify_client_secret])
    register_env_secrets()
    install_log_redaction()  # every log record is redacted before any handler sees it
    return settings
