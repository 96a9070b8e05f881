"""One settings object, from NEWSQA_* environment variables (and CLI flags that set them)."""

from __future__ import annotations

import ipaddress
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.milvus import MilvusTarget
from index.modes import SearchMode
from qa.abstention import DEFAULT_MIN_CONFIDENCE
from qa.errors import ConfigError
from qa.limits import MAX_TOP_K

MIN_KEY_CHARS = 16


class Settings(BaseSettings):
    """Everything newsqa can be told; defaults suit one process on one machine."""

    model_config = SettingsConfigDict(env_prefix="NEWSQA_", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Where the store and indexes live.")
    database_url: str | None = Field(
        None, description="Keep records in this database instead of a SQLite file in the data "
        "directory: a SQLAlchemy URL such as 'postgresql+psycopg://newsqa@db:5432/newsqa' "
        "(needs the scale extra: pip install 'newsqa[scale]').")
    model: str = Field("all-MiniLM-L6-v2",
                       description="Embedding model: the default packaged one, or a local path.")
    embedder: Literal["model", "hashing"] = Field(
        "model", description="'hashing' uses a deterministic bag-of-words embedder (no model).")
    onnx_questions: bool = Field(
        True, description="Embed questions with ONNX Runtime (an export of the model made when the "
        "server starts): the same vectors, about twice as fast as PyTorch on a CPU.")
    embed_precision: str = Field(
        "auto", description="Precision of bulk embedding (ingest): 'auto' takes the fastest that "
        "keeps the vectors here (bf16 on a CPU with AMX or AVX-512 BF16, fp16 on a GPU, else fp32; "
        "cosine to fp32 >= 0.9999); 'fp32' gives the model's own vectors.")
    embed_compile: bool = Field(
        True, description="Compile the model with TorchInductor for bulk bf16 embedding on a CPU "
        "(a large ingest, a re-index), kernels kept in the data directory: the same vectors, "
        "faster once a few thousand chunks are embedded; without a C++ compiler it stays eager.")
    embed_device: str = Field("cpu", description="Where bulk embedding runs: 'cpu' or 'cuda'.")
    default_tz: str = Field("UTC", description="Zone for timestamps written without one.")
    chunk_tokens: int = Field(200, ge=16, le=2048,
                              description="Target chunk size in tiktoken (cl100k) tokens.")
    top_k: int = Field(5, ge=1, le=MAX_TOP_K, description="Passages retrieved per question.")
    mode: SearchMode = "hybrid"
    max_question_chars: int = Field(1000, ge=10)
    max_article_chars: int = Field(2_000_000, ge=1000)
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Origins allowed to call the API from a browser: a "
        "comma-separated list (or a JSON list), e.g. 'https://news.example,https://www.example'.")
    chat_rate_per_minute: int = Field(
        30, ge=0, description="Chat questions one client may ask a minute, on average, in bursts of up "
        "to 10 (0: no limit).")
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, repr=False, description="Keys that may write (POST and DELETE "
        "/v1/articles), sent as 'Authorization: Bearer KEY': a comma-separated list. With no key "
        "(here or in NEWSQA_API_KEYS_FILE) the server takes writes from this machine only.")
    api_keys_file: Path | None = Field(
        None, description="A file of API keys, one a line ('#' starts a comment), read at start.")
    read_keys_required: bool = Field(
        False, description="Also require a key to ask and read (every /v1 route).")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Addresses or networks of reverse proxies whose "
        "X-Forwarded-For names the client (comma-separated, e.g. '10.0.0.5,10.1.0.0/16'); "
        "from anyone else the header is ignored.")
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Host names the server answers to (comma-separated; "
        "'*.example.org' for subdomains). Default: the bind address, localhost, 127.0.0.1, ::1.")
    max_body_bytes: int | None = Field(
        None, ge=1024, description="Largest request body of POST /v1/articles, in bytes; a larger "
        "one is refused with 413 before it is read. Default: 4 bytes for each of "
        "NEWSQA_MAX_ARTICLE_CHARS plus 1 MiB, which fits the largest article accepted.")
    rate_limits: Annotated[dict[str, int], NoDecode] = Field(
        default_factory=dict, description="Requests a client may make a minute, by route group, "
        "overriding the defaults: e.g. 'ask=60,figures=30' (0 turns one off; 'off' turns all off).")
    stream_pause_ms: int = Field(
        30, ge=0, le=1000, description="Pause between the pieces of a streamed answer.")
    fusion_rrf_k: float = Field(60.0, gt=0, description="Reciprocal rank fusion's k.")
    fusion_dense_weight: float = Field(0.7, ge=0, description="Weight of the dense ranking.")
    fusion_keyword_weight: float = Field(1.0, ge=0, description="Weight of the BM25 ranking.")
    fusion_depth: int = Field(100, ge=1, le=1000,
                              description="Candidates taken from each ranking before fusing.")
    milvus_uri: str | None = Field(
        None, description="Search on Milvus instead of the embedded FAISS + BM25: a local file "
        "path runs Milvus Lite in this process, http://host:19530 talks to a Milvus server.")
    milvus_collection: str = Field(
        "newsqa_chunks", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,254}$",
        description="The Milvus collection this deployment's chunks live in.")
    milvus_consistency: Literal["Strong", "Session", "Bounded", "Eventually"] | None = Field(
        None, description="Milvus read consistency; unset: Session for Milvus Lite from a file "
        "(one process), Strong for a server (replicas see each other's writes at once).")
    recency_weight: float = Field(1.0, ge=0, description="Boost for text published just before "
                                  "the moment of asking (0: off).")
    recency_half_life_days: float = Field(30.0, gt=0, description="Days after which the recency "
                                          "boost halves.")
    min_confidence: float = Field(
        DEFAULT_MIN_CONFIDENCE, ge=0, le=1, description="Abstain when the answer's calibrated "
        "confidence (qa/abstention.py) is below this; 0 never abstains on passage answers.")

    @field_validator("embed_precision")
    @classmethod
    def _precision_known(cls, value: str) -> str:
        from index.bulk_encode import PRECISION_CHOICES

        if value not in PRECISION_CHOICES:
            raise ValueError(f"NEWSQA_EMBED_PRECISION={value!r} is unknown; use one of "
                             f"{', '.join(PRECISION_CHOICES)}")
        return value

    @field_validator("default_tz")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"NEWSQA_DEFAULT_TZ={value!r} is not a known time zone; use an "
                             "IANA name such as 'UTC' or 'America/New_York'") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url_is_known(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql+psycopg://", "sqlite:///")):
            shown = value.split("@")[-1]  # no password in the message
            raise ValueError(f"NEWSQA_DATABASE_URL ends in {shown!r}, which is not a database "
                             "newsqa can use; write 'postgresql+psycopg://user:password@host:5432/"
                             "name', or leave it unset for the SQLite file in the data directory")
        return value or None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origin_list(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [o.strip().rstrip("/") for o in text.split(",") if o.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins_are_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
                raise ValueError(f"NEWSQA_CORS_ORIGINS has {origin!r}, which is not an origin; "
                                 "write scheme and host only, e.g. 'https://news.example'")
        return value

    @field_validator("api_keys", "trusted_proxies", "allowed_hosts", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("api_keys")
    @classmethod
    def _keys_are_long(cls, value: list[str]) -> list[str]:
        for key in value:
            if len(key) < MIN_KEY_CHARS:
                raise ValueError(f"NEWSQA_API_KEYS has a key of {len(key)} characters; use keys "
                                 f"of at least {MIN_KEY_CHARS} (e.g. `openssl rand -hex 24`)")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"NEWSQA_TRUSTED_PROXIES has {item!r}, which is not an IP "
                                 "address or network; write e.g. '10.0.0.5' or '10.0.0.0/8'") from exc
        return value

    @field_validator("rate_limits", mode="before")
    @classmethod
    def _limit_map(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.lower() == "off":
                return {"*": 0}
            out: dict[str, object] = {}
            for item in filter(None, (i.strip() for i in text.split(","))):
                name, sep, number = item.partition("=")
                if not sep:
                    raise ValueError(f"NEWSQA_RATE_LIMITS has {item!r}; write name=requests a "
                                     "minute, e.g. 'ask=60,figures=30', or 'off'")
                out[name.strip()] = number.strip()
            return out
        return value

    def api_key_list(self) -> list[str]:
        """The keys of NEWSQA_API_KEYS and of NEWSQA_API_KEYS_FILE, read now."""
        keys = list(self.api_keys)
        if self.api_keys_file is not None:
            try:
                lines = self.api_keys_file.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise ConfigError(f"NEWSQA_API_KEYS_FILE={str(self.api_keys_file)!r} cannot be "
                                  f"read ({exc.strerror}); give a readable file of keys") from exc
            for number, line in enumerate(lines, start=1):
                key = line.split("#", 1)[0].strip()
                if key and len(key) < MIN_KEY_CHARS:
                    raise ConfigError(f"{self.api_keys_file}, line {number}: a key of {len(key)} "
                                      f"characters; use keys of at least {MIN_KEY_CHARS}")
                if key:
                    keys.append(key)
        return keys

    @property
    def body_limit_bytes(self) -> int:
        return self.max_body_bytes or 4 * self.max_article_chars + 1024 * 1024

    def milvus_target(self) -> MilvusTarget | None:
        """Where search runs when it is not embedded (None: FAISS + BM25 in the data directory)."""
        if not self.milvus_uri:
            return None
        return MilvusTarget(self.milvus_uri, self.milvus_collection, self.milvus_consistency)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.default_tz)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
