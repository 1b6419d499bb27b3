"""The code the notebooks teach, generated from their ``#| export <module>`` cells by ``python -m helpers export``.

Never edit these files: edit the notebook's cell, then run the command (``tests/test_export.py`` fails otherwise).

| notebook | module | what it holds |
|---|---|---|
| 01_load_corpus | ``chunking`` | ``Document``, ``Chunk``, the splitter, ``chunk_documents`` |
| 02_build_pairs | ``splits`` | chunk grouping (union-find), both split regimes, training pairs, IR sets |
| 03_train_matryoshka | ``recipe`` | training dataset, mining, ``build_loss``, ``training_arguments``, ``fine_tune`` |
| 04_evaluate_retrieval | ``retrieval`` | encoding, ranking, one function per metric, BM25 |
| 07_deploy_index | ``index_recipes`` | the faiss index recipes (exact, HNSW, int8, binary) and Milvus Lite |
| 08_rerank | ``rerank`` | the hybrid as first stage, mined negatives, the cross-encoder's training, reranking, the timed funnel |

This file imports nothing, so importing one lesson never loads another (07's imports faiss, 03's torch).
"""
