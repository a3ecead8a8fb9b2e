// Package indexer adds photo libraries to a Glimpse data dir: it walks folders, recognises
// images by content (JPEG, PNG, GIF, WebP, BMP, TIFF, HEIC/HEIF), decodes them upright (EXIF
// orientation), embeds them with a model's vision encoder and stores records, embeddings and
// thumbnails, one database transaction per batch.
//
// It writes into a library.Library (the data dir: database, thumbnails, last run), which it
// opens from package library like every reader does. An [Indexer] runs [Indexer.Add] as a
// pipeline of bounded queues:
//
//	walk -> Workers x (read, sniff, sha256, probe, decode, preprocess, thumbnail, copy)
//	     -> batcher + encoder (Vision.EncodePixels) -> committer (one transaction per batch,
//	        then the batch's ITM tokens or model-resolution copies)
//
// so memory does not grow with the library. What a query's rerank will need of each image is
// the token policy's choice (Options.Tokens): its tokens stored at once (TokensEager), its
// tokens while the cache has room and a small JPEG of the model's input to compute them from
// (TokensCopies), or nothing (TokensLazy). A file is "unchanged" when its path, size and mtime
// are stored, a "duplicate" when its bytes are already embedded under another path;
// bad files are "skipped" or "failed" with a reason and never stop a run. Every batch is
// atomic, so after a crash or kill -9 a rerun finishes the job. Batches leave the database
// file several times its data; library.Compact rewrites it (store.CompactFile) when it is over
// library.CompactOptions.MaxRatio, and `indexer add` calls it after a run that wrote to its own
// file.
//
// JPEGs are decoded by libjpeg-turbo in the DCT domain at the smallest scale (1/8 .. 1) that
// still covers the model input and the thumbnail, then resized by the model's PIL-compatible
// bicubic: far cheaper than a full decode of a camera photo, and slightly different pixels
// (Options.FullDecode turns it off). The cgo lives in packages turbojpeg and heif.
package indexer
