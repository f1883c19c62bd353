"""The dataset on disk (DESIGN.md §3): writing shards, committing them, reading them back.

io/ knows nothing about scenes: it receives ClipRecords (rows and RGB frame chunks, records.py) and
writes bytes against one table contract (contract.py); it imports nothing from recipe/, plan,
pipeline, world/ or render/.

  shard.py     ShardWriter (one shard, atomic commit), committed_shards, clean_leftovers
  manifest.py  finalize (dataset.json, written last), read_manifest
  reader.py    open_dataset -> Dataset: tables as pyarrow datasets, clips decoded by byte range
  verify.py, inspect.py, cli.py   `synthdata verify` and `synthdata inspect`
  video.py     deterministic H.264/MP4 encoding, frame-exact decoding
  contract.py  the table contract: columns, Arrow types, sort keys, schema metadata
  records.py   ClipRecord, FrameChunk, VideoSettings: what ShardWriter receives
  tar.py, tables.py, rle.py, store.py   tar shards, rows -> Parquet, COCO RLE, local/fsspec storage

Modules are imported on use, so `import synthdata.io` stays light.
"""
