"""Run configurations from YAML files, validated against a schema that rejects unknown keys."""

from predictor_nas.config._schema import ConfigField, load_config, validate_config

__all__ = ["ConfigField", "load_config", "validate_config"]
