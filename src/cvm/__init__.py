"""cvm: customer value management for car dealers."""

__version__ = "0.1.0"
