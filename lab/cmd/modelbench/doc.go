// Command modelbench measures model bundles at their real size on this machine and prints one
// table and, as its last line, one JSON object (`make bench-models`).
//
// Usage:
//
//	modelbench [--no-default] [--phases memory,throughput] [--threads N] [--min-time D]
//	           [--max-iters N] [--ks 16,128] [--vision-batches 1,8] [--itm-batch 16] [--images N]
//	           [--quick] [--out FILE] [DIR...]
//
// The embedded default bundle (tiny-scenes) is measured first unless --no-default, then each
// bundle DIR. Every (bundle, phase) runs in a fresh child process of this binary, so that its
// peak resident memory (VmHWM) belongs to that bundle alone: the memory phase opens the bundle
// and runs one text query (rerank of K = the first --ks); the throughput phase measures vision
// images/s, text queries/s, ITM pairs/s and the end-to-end query latency at each K. The work is
// done by package modelbench. Bad flags exit with status 2, other failures with status 1.
package main
