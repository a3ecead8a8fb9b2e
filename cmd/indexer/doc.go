// Command indexer adds photo libraries and text corpora to a Glimpse data dir.
//
// Usage:
//
//	indexer add [--data DIR] [--model DIR] [--workers N] [--batch N] [--report FILE] [--max-pixels N] PATH...
//	indexer add-texts [--data DIR] [--model DIR] FILE
//	indexer remove [--data DIR] PATH...
//	indexer status [--data DIR] [--model DIR] [--json]
//
// add walks the folders (hidden and system folders skipped, symlink loops followed once),
// recognises images by content, and indexes them: unchanged files are skipped, so rerunning
// after an interruption (Ctrl-C stops after the current batch; even kill -9 is safe) finishes
// the job. Bad files are skipped or failed with a reason, counted in the summary and written to
// --report as JSON lines {"path","status","reason"}. A progress bar is drawn on a terminal;
// otherwise progress is logged every few seconds.
//
// add-texts stores a corpus of texts (one per line, or JSON lines {"id","text"}) with their
// embeddings, the texts that image->text search ranks.
//
// Environment: GLIMPSE_DATA is the default data dir (else ./glimpse-data); GLIMPSE_ORT_LIB is
// the path of the ONNX Runtime library (default: the `make setup` cache). Bad flags exit with
// status 2, other failures with status 1.
package main
