// Package heiftest writes HEIC files for the tests and benchmarks of other packages (package
// heif only reads them): libheif's HEVC encoder (x265) through cgo, as a phone stores a photo.
// Nothing in the product imports it.
package heiftest
