"""e5desk: an offline desktop explorer for multilingual E5 text embeddings."""

__version__ = "0.1.0"
