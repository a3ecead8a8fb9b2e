// Package heif is Glimpse's one use of libheif (through cgo and pkg-config libheif): the
// primary image of a HEIC/HEIF file (and AVIF where libheif has an AV1 decoder) as upright
// 8-bit RGBA, with its size and Exif block, readable by size alone before any pixel is decoded.
// Importing it registers the "heif" format with package image, so image.Decode and
// image.DecodeConfig read HEIF files too.
package heif
