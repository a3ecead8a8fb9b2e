// Package turbojpeg is Glimpse's one use of libjpeg-turbo (its TurboJPEG API, through cgo and
// pkg-config libturbojpeg): reading a JPEG's header, decoding it to RGBA at full size or at a
// DCT scaling factor, and compressing thumbnails and the indexer's model-resolution copies.
//
// Decode uses libjpeg's accurate integer IDCT and fancy chroma upsampling, the settings Pillow
// decodes with, so a full-size decode gives the pixels the upstream Python preprocessing of a
// model sees. Any libjpeg error or warning (a truncated or damaged file) is returned as an
// error; callers fall back to the standard library's image/jpeg, which also handles the CMYK
// and YCCK files that Header reports as not RGB.
package turbojpeg
