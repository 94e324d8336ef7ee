"""Settings: config.yaml, environment and --set overrides, all checked against one schema.

A typo in a config file must never be silently ignored, and the shipped
config.yaml must list exactly the schema's keys with its defaults.
"""

from __future__ import annotations

import os

import pytest
import yaml

from bridge.config import (
    DEFAULT_CONFIG_FILE,
    SCHEMA,
    ConfigError,
    defaults,
    load_config,
    parse_set_options,
)


def write(tmp_path, text: str):
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_lists_every_key_with_its_default():
    shipped = yaml.safe_load(DEFAULT_CONFIG_FILE.read_text(encoding="utf-8"))
    assert list(shipped) == list(SCHEMA)
    for section, settings in SCHEMA.items():
        assert list(shipped[section]) == list(settings), section
        for key, setting in settings.items():
            value = shipped[section][key]
            assert value == setting.default, f"{section}.{key}"
            assert type(value) is type(setting.default), f"{section}.{key}"


def test_shipped_config_loads_to_defaults():
    assert load_config(DEFAULT_CONFIG_FILE, environ={}) == defaults()


def test_schema_defaults_pass_their_own_checks():
    for section, settings in SCHEMA.items():
        for key, setting in settings.items():
            if setting.default is None:
                assert setting.optional, f"{section}.{key}"
            elif setting.check is not None:
                assert setting.check(setting.default), f"{section}.{key}"


def test_no_file_no_env_gives_defaults():
    config = load_config(environ={})
    assert config == defaults()
    assert config.get_value("osc.port") == 9123
    assert config["sampling"]["top_p"] == 0.98


def test_file_values_override_defaults(tmp_path):
    path = write(tmp_path, "osc:\n  port: 9200\nsampling:\n  temperature: 0.9\nlogging:\n")
    config = load_config(path, environ={})
    assert config["osc"]["port"] == 9200
    assert config["sampling"]["temperature"] == 0.9
    assert config["model"]["profile"] == "auto"


def test_empty_file_is_fine(tmp_path):
    assert load_config(write(tmp_path, ""), environ={}) == defaults()


def test_unknown_section_is_named(tmp_path):
    with pytest.raises(ConfigError, match="oscc") as info:
        load_config(write(tmp_path, "oscc:\n  port: 1\n"), environ={})
    assert "unknown section" in str(info.value)


def test_unknown_key_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"osc\.prot") as info:
        load_config(write(tmp_path, "osc:\n  prot: 9200\n"), environ={})
    assert "port" in str(info.value)  # the known keys are listed
    with pytest.raises(ConfigError, match=r"osc\.prot"):
        load_config(overrides={"osc.prot": "1"}, environ={})


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("osc:\n  port: 0\n", "osc.port"),
        ("osc:\n  port: 70000\n", "osc.port"),
        ("sampling:\n  top_p: 2\n", "sampling.top_p"),
        ("sampling:\n  temperature: .nan\n", "sampling.temperature"),
        ("osc:\n  port: '9200'\n", "osc.port"),
        ("osc:\n  port: 9200.5\n", "osc.port"),
        ("osc:\n  port: true\n", "osc.port"),
        ("model:\n  offline: 'true'\n", "model.offline"),
        ("model:\n  offline: 1\n", "model.offline"),
        ("model:\n  device: tpu\n", "model.device"),
        ("model:\n  id: null\n", "model.id"),
        ("logging:\n  level: loud\n", "logging.level"),
    ],
)
def test_bad_values_are_refused(tmp_path, text: str, key: str):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), environ={})
    assert key in str(info.value)


def test_bad_file_shapes(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml", environ={})
    with pytest.raises(ConfigError, match="YAML"):
        load_config(write(tmp_path, "osc: [\n"), environ={})
    with pytest.raises(ConfigError, match="mapping"):
        load_config(write(tmp_path, "- 1\n- 2\n"), environ={})
    with pytest.raises(ConfigError, match="mapping"):
        load_config(write(tmp_path, "osc: 5\n"), environ={})


def test_optional_values_accept_null_and_text(tmp_path):
    config = load_config(write(tmp_path, "model:\n  revision: main\n  cache_dir: null\n"), environ={})
    assert config["model"]["revision"] == "main" and config["model"]["cache_dir"] is None


def test_int_accepted_where_number_expected(tmp_path):
    config = load_config(write(tmp_path, "sampling:\n  top_p: 1\nmidi:\n  buffer_seconds: 2\n"), environ={})
    assert config["sampling"]["top_p"] == 1 and config["midi"]["buffer_seconds"] == 2


def test_env_override():
    config = load_config(environ={"MIDI_LLM_BRIDGE__OSC__PORT": "9200", "UNRELATED": "x"})
    assert config["osc"]["port"] == 9200


def test_env_override_from_process_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("MIDI_LLM_BRIDGE__"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MIDI_LLM_BRIDGE__OSC__PORT", "9300")
    monkeypatch.setenv("MIDI_LLM_BRIDGE__MODEL__OFFLINE", "true")
    config = load_config()
    assert config["osc"]["port"] == 9300 and config["model"]["offline"] is True


def test_env_overrides_file_and_set_overrides_env(tmp_path):
    path = write(tmp_path, "osc:\n  port: 9200\n")
    assert load_config(path, environ={"MIDI_LLM_BRIDGE__OSC__PORT": "9300"})["osc"]["port"] == 9300
    config = load_config(path, environ={"MIDI_LLM_BRIDGE__OSC__PORT": "9300"}, overrides={"osc.port": "9400"})
    assert config["osc"]["port"] == 9400


@pytest.mark.parametrize(
    ("environ", "word"),
    [
        ({"MIDI_LLM_BRIDGE__OSC__PORT": "0"}, "osc.port"),
        ({"MIDI_LLM_BRIDGE__OSC__PORT": "abc"}, "osc.port"),
        ({"MIDI_LLM_BRIDGE__OSC": "1"}, "SECTION__KEY"),
        ({"MIDI_LLM_BRIDGE__NOPE__PORT": "1"}, "nope"),
    ],
)
def test_bad_env_overrides(environ: dict, word: str):
    with pytest.raises(ConfigError, match=word):
        load_config(environ=environ)


def test_set_overrides():
    overrides = parse_set_options(["osc.port=9200", "sampling.top_p=0.5", "model.id=a=b", "model.offline=yes"])
    assert overrides == {"osc.port": "9200", "sampling.top_p": "0.5", "model.id": "a=b", "model.offline": "yes"}
    config = load_config(overrides=overrides, environ={})
    assert config["osc"]["port"] == 9200
    assert config["sampling"]["top_p"] == 0.5
    assert config["model"]["id"] == "a=b"
    assert config["model"]["offline"] is True  # YAML scalar "yes"
    # non-text override values are used as they are
    assert load_config(overrides={"osc.port": 9201}, environ={})["osc"]["port"] == 9201


@pytest.mark.parametrize(
    ("overrides", "word"),
    [
        ({"osc.port": "0"}, "osc.port"),
        ({"sampling.top_p": "2"}, "sampling.top_p"),
        ({"sampling.top_k": "many"}, "sampling.top_k"),
        ({"model.warmup": "maybe"}, "model.warmup"),
        ({"osc.port": True}, "osc.port"),
        ({"port": "1"}, "section.key"),
    ],
)
def test_bad_set_overrides(overrides: dict, word: str):
    with pytest.raises(ConfigError, match=word):
        load_config(overrides=overrides, environ={})


def test_parse_set_options_needs_equals():
    with pytest.raises(ConfigError, match="section.key=value"):
        parse_set_options(["osc.port"])
    assert parse_set_options(None) == {}


def test_non_loopback_host_needs_secret():
    with pytest.raises(ConfigError, match="secret"):
        load_config(overrides={"osc.host": "0.0.0.0"}, environ={})
    config = load_config(overrides={"osc.host": "0.0.0.0", "osc.secret": "s3cret"}, environ={})
    assert config["osc"]["host"] == "0.0.0.0"
    for host in ("127.0.0.1", "localhost", "::1"):
        assert load_config(overrides={"osc.host": host}, environ={})["osc"]["host"] == host


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


@pytest.mark.parametrize("text", ["::", "::1", "0.0.0.0", "fe80::1%eth0", "[::]"])
def test_text_settings_from_the_command_line_and_the_environment_are_taken_as_text(text):
    """YAML would read ``::`` as a mapping and ``123`` as a number: text settings take the text as given."""
    from_set = load_config(overrides={"osc.host": text, "osc.secret": "123"}, environ={})
    assert from_set["osc"]["host"] == text and from_set["osc"]["secret"] == "123"
    from_env = load_config(environ={"MIDI_LLM_BRIDGE__OSC__HOST": text, "MIDI_LLM_BRIDGE__OSC__SECRET": "yes"})
    assert from_env["osc"]["host"] == text and from_env["osc"]["secret"] == "yes"
    assert load_config(overrides={"model.id": "on", "midi.port_name": "1.5"}, environ={})["model"]["id"] == "on"


def test_an_empty_optional_text_setting_means_none():
    assert load_config(overrides={"osc.secret": ""}, environ={})["osc"]["secret"] is None
    assert load_config(environ={"MIDI_LLM_BRIDGE__MODEL__CACHE_DIR": ""})["model"]["cache_dir"] is None


@pytest.mark.parametrize("host", ["::", "0.0.0.0", "192.168.1.20", "fe80::1"])
def test_the_refusal_of_a_non_loopback_host_names_the_rule(host):
    with pytest.raises(ConfigError) as caught:
        load_config(overrides={"osc.host": host}, environ={})
    message = str(caught.value)
    assert repr(host) in message and "loopback" in message and "osc.secret" in message
    assert "MIDI_LLM_BRIDGE__OSC__SECRET" in message


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1"])
def test_loopback_hosts_need_no_secret(host):
    assert load_config(overrides={"osc.host": host}, environ={})["osc"]["host"] == host
