// Package photo reads image files from untrusted input: it names a file's format by content
// ([Sniff]), refuses decompression bombs from the header before any pixel is decoded ([Check]:
// bytes, pixels, decoded bytes, a JPEG's scan count), decodes JPEG (libjpeg-turbo, as Pillow
// decodes, or at a DCT scale for thumbnails and model inputs), HEIC/HEIF (libheif), PNG, GIF,
// WebP, BMP and TIFF, and reads EXIF with one parser: the orientation, applied unless asked
// not to ([Orient]), and the capture time.
//
// Every image the indexer, the rerank, the searcher and the web uploads decode goes through
// it; package encoder then turns the images into model inputs.
package photo
