"""matryoshka-lab helpers: the code behind the course notebooks and ``python -m helpers``."""

__version__ = "0.1.0"
