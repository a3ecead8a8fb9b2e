// Package modelbench measures what a model bundle costs on this machine, at its real size: the
// throughput of each graph (vision images/s at several batch sizes, text queries/s, ITM pairs/s),
// the end-to-end latency of a text query with an ITM rerank of K candidates through the real
// searcher, store and token cache, and the process's resident memory (load peak, steady, peak
// after one query, each graph's growth on its first run).
//
// [Measure] runs one phase for one bundle in the calling process; the memory figures are only
// meaningful when each (bundle, phase) gets a fresh process, which lab/cmd/modelbench arranges.
// [Merge] and [WriteTable] turn the phases' [Result]s into one row per model.
package modelbench
