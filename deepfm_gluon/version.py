"""The package version, in a module that imports nothing (setup.cfg reads it)."""
__version__ = "0.1.0"
