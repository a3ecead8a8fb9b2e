// Command loadgen sends searches to a Glimpse server on this machine (--url, loopback only) or
// to one it starts in-process over --data with the rate limit off, at a fixed concurrency, and
// prints throughput and latency quantiles; with --hostile N, N more clients send crafted
// uploads (JPEG scan bombs, 16-bit PNG bombs, a stalled upload) in a loop meanwhile. Its last
// line is one JSON object (`make bench-server`, `make bench-server-attack`).
//
// Usage:
//
//	loadgen [--url URL | --data DIR] [--model DIR] [--n 1000] [--concurrency 8] [--queries FILE]
//	        [--k K] [--limit N] [--min-score P] [--warmup N] [--hostile N] [--timeout D]
package main
