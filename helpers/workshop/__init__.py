"""Workshop tools for learners: ``checks`` (one module of exercise checkers per notebook), ``playground`` (notebook
06's search UI) and ``doctor`` (is this machine ready? notebook 00 and ``python -m helpers doctor``)."""
