// Package scene generates deterministic compositional scenes: small images
// with one to three coloured shapes on a low-saturation background, together
// with true captions, hard negative captions and (optionally) "twin" scenes
// that differ from the original only in how attributes are bound.
//
// Everything is derived from a (seed, index) pair through a fixed hash, so a
// scene, its captions and its encoded image are byte-identical on any machine
// and independent of how many workers render a dataset. Floating-point
// products that decide a pixel or a layout are wrapped in explicit float64
// conversions so that the compiler cannot fuse them into FMA instructions.
//
// The main entry points are:
//
//   - NewScene / NewTwinScene build a Scene from a seed and index.
//   - Render draws a Scene into an *image.RGBA with 4x4 supersampling.
//   - Captions picks five true captions; Negatives builds hard negatives.
//     Options.Captions (a Style) phrases single-object scenes short, full
//     (always naming region and background) or both.
//   - Holds parses a caption and checks it geometrically against a Scene.
//   - Generate writes a whole dataset (images plus a Karpathy-style
//     captions.json) using a worker pool.
package scene
