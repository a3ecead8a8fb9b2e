// Package hubtest is a local stand-in for the Hugging Face hub and ModelScope: a Mirror is an
// httptest server that serves repositories held in memory (or read from a folder tree) through
// the same HTTP APIs the hubs' own client libraries use (model info, the tree API, /resolve/ with
// LFS redirects to a CDN under another host name, Range requests, ModelScope's /api/v1 file
// API), and misbehaves on demand: a file's transfer cut short, corrupted, stalled, or answered
// 404. It logs every request, so a test can check what a client asked for.
//
// cmd/hubmirror serves a folder on a port for tests in other languages.
package hubtest
