"""The scenario: a typed model of one YAML file, its loader and its templates."""
