"""Settings: one pydantic-settings object, built at the entrypoint and passed down.

Environment: prefix ``REELFLOW_`` with ``__`` between nested sections
(``REELFLOW_STORAGE__URI=s3://bucket/prefix``); the services' conventional variables
(``OPENAI_API_KEY``, ``HUME_API_KEY`` ...) are read under their own names. A ``.env`` file in
the working directory is read too. Nothing here does I/O at import time.
Every variable is listed in ``.env.example``.
"""

from __future__ import annotations

from pathlib import Path

from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

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
    x264_preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower",
                         "veryslow"] = Field(default="veryfast", description="libx264 preset (speed/size trade-off).")
    crf: int = Field(default=20, ge=10, le=35)
    transition_s: float = Field(default=0.25, ge=0, le=1.0, description="Cross-fade between scenes.")
    music_duck_db: float = Field(default=14.0, ge=10, le=30, description="Bed level under speech, dB below.")


class RunnerSettings(BaseModel):
    """How flows fan out their tasks."""

    task_runner: str = Field(default="thread", description='"thread" (default) or "dask" (anything else: a '
                             'ConfigurationError naming REELFLOW_RUNNER__TASK_RUNNER when a flow starts).')
    dask_address: str | None = Field(default=None, description="Existing Dask scheduler; None = local cluster.")
    dask_workers: int = Field(default=2, ge=1)
    max_concurrency: int = Field(default=2, ge=1, description="Parallel CPU-bound tasks per flow run.")


class OpenAISettings(BaseModel):
    """OpenAI Chat Completions (script writer). ``OPENAI_API_KEY`` set = the remote planner is used."""

    api_key: SecretStr | None = Field(default=None, description="OPENAI_API_KEY")
    base_url: str | None = Field(default=None, description="OPENAI_BASE_URL (None = api.openai.com).")
    model: str = Field(default="gpt-4o-mini", description="OPENAI_MODEL")


class HumeSettings(BaseModel):
    """Hume Octave TTS (narration). ``HUME_API_KEY`` set = remote narration."""

    api_key: SecretStr | None = Field(default=None, description="HUME_API_KEY")
    base_url: str = Field(default="https://api.hume.ai", description="HUME_BASE_URL")
    voice: str | None = Field(default=None, description="HUME_VOICE: default voice name or id when the brief names none.")
    requests_per_minute: int = Field(default=100, ge=1, description="Account rate limit, held across workers.")


class RunwareSettings(BaseModel):
    """Runware video inference (clips). ``RUNWARE_API_KEY`` set = remote clips."""

    api_key: SecretStr | None = Field(default=None, description="RUNWARE_API_KEY")
    base_url: str = Field(default="https://api.runware.ai/v1", description="RUNWARE_BASE_URL")
    model: str = Field(default="klingai:5@3", description="RUNWARE_MODEL (AIR id).")
    job_deadline_s: float = Field(default=900.0, gt=0, description="Poll deadline of one Runware job.")
    poll_initial_s: float = Field(default=2.0, gt=0, description="First poll interval (grows x1.5).")
    max_jobs_per_clip: int = Field(default=3, ge=1, description="New jobs after failed/stuck ones, per clip.")


class SpotifySettings(BaseModel):
    """Spotify Web API (catalogue refresh; client-credentials flow)."""

    client_id: str | None = Field(default=None, description="SPOTIFY_CLIENT_ID")
    client_secret: SecretStr | None = Field(default=None, description="SPOTIFY_CLIENT_SECRET")
    api_base_url: str = Field(default="https://api.spotify.com/v1", description="SPOTIFY_API_BASE_URL")
    token_url: str = Field(default="https://accounts.spotify.com/api/token", description="SPOTIFY_TOKEN_URL")


class HttpSettings(BaseModel):
    """Behaviour of every service call (``clients/_http.py``: one retry layer per call) and media downloads."""

    deadline_s: float = Field(default=120.0, gt=0, description="Overall budget of one service call, retries included.")
    max_attempts: int = Field(default=6, ge=1, description="Tries per service call (first + retries).")
    backoff_max_s: float = Field(default=8.0, gt=0, description="Cap of the random-exponential backoff.")
    retry_after_cap_s: float = Field(default=60.0, ge=0, description="Longer Retry-After values fail fast.")
    media_hosts: str = Field(default="", description="Comma-separated allow-list of hosts media may be downloaded "
                             "from (empty = the providers' own media hosts).")
    allow_private_media: bool = Field(default=False, description="Allow loopback/private media hosts (tests, on-prem).")


#: The services' conventional variable names (and earlier flat ``REELFLOW_*`` names) → (section, field).
#: The nested form works too: ``REELFLOW_HUME__VOICE``, ``REELFLOW_HTTP__DEADLINE_S`` ...
_CONVENTIONAL_ENV: dict[str, tuple[str, str]] = {
    "OPENAI_API_KEY": ("openai", "api_key"),
    "OPENAI_BASE_URL": ("openai", "base_url"),
    "OPENAI_MODEL": ("openai", "model"),
    "REELFLOW_OPENAI_MODEL": ("openai", "model"),
    "HUME_API_KEY": ("hume", "api_key"),
    "HUME_BASE_URL": ("hume", "base_url"),
    "HUME_VOICE": ("hume", "voice"),
    "REELFLOW_HUME_VOICE": ("hume", "voice"),
    "REELFLOW_HUME_REQUESTS_PER_MINUTE": ("hume", "requests_per_minute"),
    "RUNWARE_API_KEY": ("runware", "api_key"),
    "RUNWARE_BASE_URL": ("runware", "base_url"),
    "RUNWARE_MODEL": ("runware", "model"),
    "REELFLOW_RUNWARE_MODEL": ("runware", "model"),
    "REELFLOW_RUNWARE_JOB_DEADLINE_S": ("runware", "job_deadline_s"),
    "REELFLOW_RUNWARE_POLL_INITIAL_S": ("runware", "poll_initial_s"),
    "REELFLOW_RUNWARE_MAX_JOBS_PER_CLIP": ("runware", "max_jobs_per_clip"),
    "SPOTIFY_CLIENT_ID": ("spotify", "client_id"),
    "SPOTIFY_CLIENT_SECRET": ("spotify", "client_secret"),
    "SPOTIFY_API_BASE_URL": ("spotify", "api_base_url"),
    "SPOTIFY_TOKEN_URL": ("spotify", "token_url"),
    "REELFLOW_SERVICE_DEADLINE_S": ("http", "deadline_s"),
    "REELFLOW_SERVICE_MAX_ATTEMPTS": ("http", "max_attempts"),
    "REELFLOW_SERVICE_BACKOFF_MAX_S": ("http", "backoff_max_s"),
    "REELFLOW_RETRY_AFTER_CAP_S": ("http", "retry_after_cap_s"),
    "REELFLOW_MEDIA_HOSTS": ("http", "media_hosts"),
    "REELFLOW_ALLOW_PRIVATE_MEDIA": ("http", "allow_private_media"),
}


class _ConventionalEnv(PydanticBaseSettingsSource):
    """Settings source for :data:`_CONVENTIONAL_ENV`: the process environment, then ``.env``."""

    def get_field_value(self, field, field_name):  # type: ignore[override]  # unused: __call__ builds the dict
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        import os

        from dotenv import dotenv_values

        env_file = Path(".env")
        values: dict[str, Any] = {k: v for k, v in dotenv_values(env_file).items() if v is not None} if env_file.is_file() else {}
        values.update(os.environ)
        out: dict[str, dict[str, Any]] = {}
        for name, (section, key) in _CONVENTIONAL_ENV.items():
            if name in values and key not in out.get(section, {}):
                out.setdefault(section, {})[key] = values[name]
        return out


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

    # --- remote services: one typed section each (see _CONVENTIONAL_ENV for the variable names) ---
    openai: OpenAISettings = Field(default_factory=OpenAISettings)
    hume: HumeSettings = Field(default_factory=HumeSettings)
    runware: RunwareSettings = Field(default_factory=RunwareSettings)
    spotify: SpotifySettings = Field(default_factory=SpotifySettings)
    http: HttpSettings = Field(default_factory=HttpSettings)

    @model_validator(mode="before")
    @classmethod
    def _conventional_arguments(cls, data: Any) -> Any:
        """``Settings(HUME_API_KEY=...)`` as the variable would: conventional names given as
        arguments land in their section (over the environment, as arguments do)."""
        if not isinstance(data, dict) or not any(k in _CONVENTIONAL_ENV for k in data):
            return data
        data = dict(data)
        for name, (section, key) in _CONVENTIONAL_ENV.items():
            if name in data:
                value = data.pop(name)
                current = data.get(section) or {}
                current = current.model_dump() if isinstance(current, BaseModel) else dict(current)
                data[section] = {**current, key: value}
        return data

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):  # type: ignore[override]
        """Sources, first wins: arguments, ``REELFLOW_*`` variables, the services' conventional
        variables (:data:`_CONVENTIONAL_ENV`), ``.env``, secret files (pydantic-settings
        "Customise settings sources")."""
        return (init_settings, env_settings, _ConventionalEnv(settings_cls), dotenv_settings, file_secret_settings)

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
    register_secrets([settings.openai.api_key, settings.hume.api_key, settings.runware.api_key,
                      settings.spotify.client_secret])
    register_env_secrets()
    install_log_redaction()  # every log record is redacted before any handler sees it
    return settings
