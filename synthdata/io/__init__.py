"""The dataset on disk (DESIGN.md §3): writing shards, committing them, reading them back.

io/ knows nothing about scenes: it receives ClipData (rows and RGB frame chunks) and writes bytes.

  shard.py     ShardWriter (one shard, atomic commit), committed_shards, clean_leftovers
  manifest.py  finalize (dataset.json, written last), read_manifest
  reader.py    open_dataset -> Dataset: tables as pyarrow datasets, clips decoded by byte range
  verify.py, inspect.py, cli.py   `synthdata verify` and `synthdata inspect`
  video.py     deterministic H.264/MP4 encoding, frame-exact decoding
  tar.py, tables.py, rle.py, store.py   tar shards, Parquet schemas, COCO RLE, local/fsspec storage
  testing.py   small synthetic clips and datasets for tests (no renderer needed)

Modules are imported on use, so `import synthdata.io` stays light.
"""
