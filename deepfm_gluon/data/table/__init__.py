"""CTR tables read as bytes: a schema (data/table/schema.py) says which column
is the label and which columns become which fields; a streaming byte-level
reader, encoders fitted in one pass and a memory-mapped on-disk cache serve
every table source (Criteo, Avazu, any CSV; docs/criteo.md).

Modules: ``schema`` (Schema, Layout), ``reader`` (chunks of validated, keyed
lines), ``encode`` (streaming vocabulary and hashing; encoding a chunk with a
fitted encoder), ``cache`` (build and reuse the cache), ``dataset``
(``TableDataset``, ``load_table``). Importing this package loads none of
them: the cache imports pandas.
"""
