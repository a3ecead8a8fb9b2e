"""`make parity`: every exporter proven against the upstream implementation of its family.

    PYTHONPATH=tools python -m parity [--width reduced|real] [--cases mplug-large,...] [--out DIR]

For each case (a family in one of the layouts its hub publishes):
1. build the *upstream* model class (ModelScope's MPlugForImageTextRetrieval, transformers'
   BlipForImageTextRetrieval / CLIPModel / SiglipModel, open_clip's CLIP) with seeded random
   weights, every LayerNorm and bias randomised and matrices scaled by 1/sqrt(fan-in) so that
   different inputs give different outputs, and save it with the upstream package's own saving
   code in the layout of its hub (`upstream/`);
2. export that folder or file with Glimpse's exporter (`bundle/`);
3. run the upstream package's own preprocessing, tokenizer and forward (tools/upstream; for mPLUG
   the ModelScope pipeline itself) on the parity inputs: real photographs, an RGBA image with
   transparent black pixels, an EXIF-rotated JPEG, short, long, truncated and non-ASCII texts;
   write its outputs as a golden file (`reference/golden.json`);
4. load the bundle in Go and compare: `searcher verify-model --golden reference/golden.json`
   (pixels, token ids, embeddings, ITM logits, p_match), and for ITM families `searcher score`
   against the pipeline's `{'scores': [p_no_match, p_match]}` on a few pairs;
5. convert the bundle into its optimised float32 and int8 variants (export.precision) and verify
   each against the same upstream golden, under its own manifest's tolerance (the optimised one
   under the float bundle's, int8 under export.precision.TOLERANCE).

Thresholds (cli.UPSTREAM_LIMITS): embeddings cosine >= 0.9999, ITM logits |diff| <= 1e-3,
p_match |diff| <= 1e-4, token ids identical, preprocessed pixels |diff| <= 0.02. The last line is
one JSON object: {"families": [{"name", "layout", "params", "min_cosine", "max_itm_diff",
"max_p_diff", "ids_equal", "ok"}, ...], "ok": ...}; the exit status is 1 when any case fails.
`--width reduced` (what `make test` runs) keeps each family's real image size, patch grid,
tokenizer and text length and shrinks depths and widths; `--width real` (`make parity`) builds
the published sizes.
"""
