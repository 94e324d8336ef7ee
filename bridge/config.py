"""Settings: ``config.yaml``, then environment variables, then the command line.

Every setting the daemon has is declared once in :data:`SCHEMA` with its type,
default and allowed values. Unknown keys and bad values are refused with a
sentence naming the key and what would be accepted, because a typo in a config
file should never be silently ignored.

Environment overrides: ``MIDI_LLM_BRIDGE__SECTION__KEY=value`` (for example
``MIDI_LLM_BRIDGE__OSC__PORT=9200``). Command-line overrides: ``--set
section.key=value``. Values of text settings are taken as the text given (so
``--host ::`` is the IPv6 address, not YAML); the others are parsed as YAML
scalars (``9200``, ``0.5``, ``true``). An empty value clears an optional setting.
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bridge.protocol.limits import MAX_TEMPERATURE, MAX_TOP_K, MAX_TOP_P, MIN_TEMPERATURE, MIN_TOP_P

ENV_PREFIX = "MIDI_LLM_BRIDGE__"
DEFAULT_CONFIG_FILE = Path(__file__).resolve().parent.parent / "config.yaml"


class ConfigError(ValueError):
    """A setting that cannot be used, with the reason in words."""


@dataclass(frozen=True)
class Setting:
    kind: type | tuple[type, ...]
    default: Any
    check: Callable[[Any], bool] | None = None
    accepted: str = ""
    optional: bool = False


def _one_of(*choices: str) -> tuple[Callable[[Any], bool], str]:
    return (lambda v: v in choices), "one of " + ", ".join(choices)


def _range(low: float, high: float) -> tuple[Callable[[Any], bool], str]:
    return (lambda v: math.isfinite(v) and low <= v <= high), f"a number from {low} to {high}"


def _setting(kind: type | tuple[type, ...], default: Any, rule: tuple[Callable[[Any], bool], str] | None = None,
             optional: bool = False) -> Setting:
    check, accepted = rule if rule else (None, "")
    return Setting(kind, default, check, accepted, optional)


SCHEMA: dict[str, dict[str, Setting]] = {
    "model": {
        "id": _setting(str, "slseanwu/MIDI-LLM_Llama-3.2-1B"),
        "profile": _setting(str, "auto", _one_of("auto", "midi-llm", "amt")),
        "revision": _setting(str, None, optional=True),
        "cache_dir": _setting(str, None, optional=True),
        "offline": _setting(bool, False),
        "device": _setting(str, "auto", _one_of("auto", "cuda", "mps", "cpu")),
        "dtype": _setting(str, "auto", _one_of("auto", "bfloat16", "float16", "float32")),
        "warmup": _setting(bool, True),
        "threads": _setting(int, 0, _range(0, 256)),
        "window_margin": _setting(int, 0, _range(0, 600)),
        "decode_step": _setting(str, "auto", _one_of("auto", "eager", "static", "compiled")),
        "backend": _setting(str, "auto", _one_of("auto", "transformers", "vllm")),
        "vllm_url": _setting(str, None, optional=True),
        "vllm_api_key": _setting(str, None, optional=True),
        "vllm_gpu_memory": _setting((int, float), 0.85, _range(0.05, 1.0)),
        "max_concurrent_jobs": _setting(int, 32, _range(1, 1024)),
    },
    "osc": {
        "host": _setting(str, "127.0.0.1"),
        "port": _setting(int, 9123, _range(1, 65535)),
        "secret": _setting(str, None, optional=True),
        "max_datagram_bytes": _setting(int, 8192, _range(512, 65000)),
    },
    "midi": {
        "port_name": _setting(str, "MIDI-LLM"),
        "connect_to": _setting(str, None, optional=True),
        "api": _setting(str, "auto", _one_of("auto", "alsa", "jack", "coremidi", "windows_mm")),
        "buffer_seconds": _setting((int, float), 1.0, _range(0.0, 30.0)),
        "late_tolerance_ms": _setting((int, float), 20.0, _range(0.0, 10_000.0)),
        "late_policy": _setting(str, "play", _one_of("play", "drop")),
    },
    "sampling": {
        "temperature": _setting((int, float), 1.0, _range(MIN_TEMPERATURE, MAX_TEMPERATURE)),
        "top_p": _setting((int, float), 0.98, _range(MIN_TOP_P, MAX_TOP_P)),
        "top_k": _setting(int, 0, _range(0, MAX_TOP_K)),
        "max_new_tokens": _setting(int, 2046, _range(3, 1_000_000)),
        "default_velocity": _setting(int, 72, _range(1, 127)),
        "grid": _setting(str, "off"),
    },
    "limits": {
        "max_notes_in": _setting(int, 4096, _range(1, 100_000)),
        "max_notes_out": _setting(int, 4096, _range(1, 100_000)),
        "max_bars": _setting(int, 128, _range(1, 10_000)),
        "max_seconds": _setting((int, float), 600.0, _range(1.0, 36_000.0)),
        "max_variations": _setting(int, 8, _range(1, 64)),
        "queue_length": _setting(int, 16, _range(1, 1000)),
        "chunk_timeout_seconds": _setting((int, float), 10.0, _range(0.1, 600.0)),
    },
    "logging": {
        "level": _setting(str, "INFO", _one_of("DEBUG", "INFO", "WARNING", "ERROR")),
        "file": _setting(str, None, optional=True),
    },
}


class Config(dict):
    """Nested mapping of validated settings: ``config["osc"]["port"]``."""

    def get_value(self, dotted: str) -> Any:
        section, key = dotted.split(".", 1)
        return self[section][key]


def defaults() -> Config:
    return Config({s: {k: v.default for k, v in keys.items()} for s, keys in SCHEMA.items()})


def _validate(section: str, key: str, value: Any, origin: str) -> Any:
    if section not in SCHEMA:
        raise ConfigError(f"{origin}: unknown section {section!r}; known: {', '.join(SCHEMA)}")
    if key not in SCHEMA[section]:
        raise ConfigError(
            f"{origin}: unknown setting {section}.{key}; known in {section}: {', '.join(SCHEMA[section])}"
        )
    setting = SCHEMA[section][key]
    if value is None:
        if setting.optional:
            return None
        raise ConfigError(f"{origin}: {section}.{key} must have a value")
    kinds = setting.kind if isinstance(setting.kind, tuple) else (setting.kind,)
    if isinstance(value, bool) and bool not in kinds:
        raise ConfigError(f"{origin}: {section}.{key} = {value!r} must be {_kind_names(kinds)}")
    if not isinstance(value, kinds):
        raise ConfigError(f"{origin}: {section}.{key} = {value!r} must be {_kind_names(kinds)}")
    if setting.check is not None and not setting.check(value):
        raise ConfigError(f"{origin}: {section}.{key} = {value!r} is not accepted; use {setting.accepted}")
    return value


def _kind_names(kinds: tuple[type, ...]) -> str:
    names = {int: "a whole number", float: "a number", str: "text", bool: "true or false"}
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


def _parse_scalar(text: str) -> Any:
    try:
        return yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:
        return text


def _from_text(section: str, key: str, text: str) -> Any:
    """A value written as text (environment, ``--set``): kept as text for text settings, else YAML."""
    setting = SCHEMA.get(section, {}).get(key)
    if setting is not None and setting.kind is str:
        return None if setting.optional and not text.strip() else text
    return _parse_scalar(text)


def _apply(config: Config, section: str, key: str, value: Any, origin: str) -> None:
    config[section][key] = _validate(section, key, value, origin)


LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost: only this computer can reach a daemon listening there."""
    if host.strip().lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]").split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Defaults, then the YAML file, then environment variables, then ``overrides``.

    ``overrides`` maps ``"section.key"`` to a value (text is parsed as YAML).
    """
    config = defaults()
    file = Path(path) if path is not None else None
    if file is not None:
        try:
            loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {file} not found") from None
        except yaml.YAMLError as error:
            raise ConfigError(f"config file {file} is not valid YAML: {error}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {file} must be a mapping of sections")
        for section, values in loaded.items():
            if values is None:
                continue
            if not isinstance(values, dict):
                raise ConfigError(f"{file}: section {section!r} must be a mapping of settings")
            for key, value in values.items():
                _apply(config, str(section), str(key), value, str(file))
    env = os.environ if environ is None else environ
    for name, text in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX):].lower().split("__")
        if len(parts) != 2:
            raise ConfigError(f"environment variable {name} must look like {ENV_PREFIX}SECTION__KEY")
        _apply(config, parts[0], parts[1], _from_text(parts[0], parts[1], text), f"environment {name}")
    for dotted, value in (overrides or {}).items():
        if "." not in dotted:
            raise ConfigError(f"override {dotted!r} must look like section.key=value")
        section, key = dotted.split(".", 1)
        if isinstance(value, str):
            value = _from_text(section, key, value)
        _apply(config, section, key, value, f"override {dotted}")
    if not is_loopback(config["osc"]["host"]) and not config["osc"]["secret"]:
        raise ConfigError(
            f"osc.host = {config['osc']['host']!r} exposes the daemon beyond this computer, and any address but "
            "loopback (127.0.0.1, ::1, localhost) needs a secret that every request must carry: set osc.secret "
            f"(--set osc.secret=TOKEN or {ENV_PREFIX}OSC__SECRET=TOKEN), or listen on 127.0.0.1"
        )
    return config


def parse_set_options(items: list[str] | None) -> dict[str, str]:
    """``["osc.port=9200", ...]`` from ``--set`` flags into a dict."""
    result: dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--set {item!r} must look like section.key=value")
        key, value = item.split("=", 1)
        result[key.strip()] = value
    return result
