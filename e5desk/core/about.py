"""Facts every layer may read: the version. The package root imports the Python API lazily;
core reads the version here, so core never depends on the root (and through it on the API)."""

VERSION = "0.1.0"
