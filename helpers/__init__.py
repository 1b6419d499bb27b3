"""matryoshka-lab helpers: the code behind the course notebooks and ``python -m helpers``.

A map, bottom to top (a module imports only from its own layer's earlier modules or from layers below):

- ``config``: profiles and every setting; imports nothing from the package.
- ``lessons``: the code notebooks 01, 02, 03, 04 and 07 teach, generated from their ``#| export`` cells.
- ``data``: documents, chunks, questions, synthetic pairs (notebooks 01-02).
- ``training``: models, runs, resume; the study and the replication (notebook 03).
- ``evaluation``: metrics, bootstrap, plots (notebooks 04-05); ``deploy``: faiss indexes (notebook 07).
- ``pipeline``: the course's steps chained, reading and writing ``outputs/<profile>/``.
- ``workshop``: exercise checks, the playground, doctor; ``cli``: the commands, a thin layer on top.
- ``export``: copies notebook cells into ``lessons``.
"""

__version__ = "0.1.0"
