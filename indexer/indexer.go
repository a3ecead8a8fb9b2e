package indexer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/rerank"

	"golang.org/x/sync/errgroup"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/store"
)

// Indexer adds photo folders to a library with one model. Its methods may be called from one
// goroutine at a time (each Add runs its own worker pool).
type Indexer struct {
	lib   *library.Library
	model *encoder.Model
	pre   *encoder.Preprocessor
	ns    *store.Namespace
	cat   Catalog
	o     Options

	reconciled bool               // the namespace's vectors were reconciled with its records (first Add)
	tokens     *rerank.TokenCache // where tokens go (Options.Tokens eager, copies); nil: dropped
	copyDir    string             // where model-resolution copies go (Options.Tokens copies); "": none

	thumbDirs sync.Map // thumbnail folders known to exist
}

// New prepares an indexer writing into lib the embeddings of model, identified by info
// ([ModelInfo] of its bundle). The model's namespace is created when missing; a namespace
// holding another model's embeddings gives store.ErrModelMismatch.
func New(lib *library.Library, model *encoder.Model, info store.ModelInfo, o Options) (*Indexer, error) {
	o = o.withDefaults()
	ns, err := lib.DB().Namespace(info, store.NamespaceOptions{})
	if err != nil {
		return nil, err
	}
	ix := &Indexer{lib: lib, model: model, pre: model.Preprocessor(), ns: ns, cat: o.Catalog, o: o}
	if ix.cat == nil {
		ix.cat = &dbCatalog{db: lib.DB(), ns: ns}
	}
	tokenLen := model.Vision.TokenLen()
	if o.Tokens == "" {
		ix.o.Tokens = defaultTokens(model.HasITM(), 2*tokenLen)
	} else if _, err := ParseTokens(o.Tokens); err != nil {
		return nil, fmt.Errorf("indexer: %w", err)
	}
	own := model.HasITM() && o.Catalog == nil // the library's own database: its content ids name the files
	if own && (ix.o.Tokens == TokensEager || ix.o.Tokens == TokensCopies) {
		ix.tokens = o.TokenCache
		if ix.tokens == nil {
			c, err := rerank.OpenTokenCache(rerank.CacheOptions{Dir: library.TokenDir(lib.Dir(), ns.Name(), info),
				TokenLen: tokenLen, Budget: o.TokenBudget, Logger: o.Logger})
			if err != nil {
				return nil, fmt.Errorf("indexer: %w", err)
			}
			ix.tokens = c
		}
	}
	if own && ix.o.Tokens == TokensCopies {
		ix.copyDir = library.CopyDir(lib.Dir(), ns.Name(), info)
		if err := os.MkdirAll(ix.copyDir, 0o755); err != nil {
			return nil, fmt.Errorf("indexer: model-resolution copies: %w", err)
		}
	}
	return ix, nil
}

// Tokens is the token policy in effect (Options.Tokens after its default).
func (ix *Indexer) Tokens() string { return ix.o.Tokens }

// Namespace returns the namespace the embeddings go to.
func (ix *Indexer) Namespace() *store.Namespace { return ix.ns }

// item is a file on its way to the catalog.
type item struct {
	rec    store.ImageRecord
	pix    []float32 // preprocessed [3,S,S]; nil for a duplicate of embedded content
	vec    []float32 // embedding, set by the encoder stage
	tok    []float32 // ITM tokens, set by the encoder stage when they are kept
	copy   []byte    // the model-resolution copy (JPEG) of a new content, written after the commit
	status Status
	// refill: an unchanged file whose content's tokens are missing from the cache, or whose
	// copy is missing (a kill between a commit and its tokens or copy, a library indexed with
	// another policy, an evicted file): it is encoded for its tokens alone, or has its copy
	// written, its record left as it is.
	refill bool
}

// Add walks the roots (folders or files) and indexes every image in them through a pipeline
// of bounded queues: walk -> Workers decode/preprocess -> batcher and encoder -> one
// transaction per Batch. Bad files are reported (OnFile) and counted, never fatal. When ctx is
// cancelled, the batch being encoded is still committed, then Add returns the summary with
// Interrupted set and ctx's error; a rerun finishes the job (unchanged files are skipped). A
// failure of the encoder or the catalog stops the run with that error.
func (ix *Indexer) Add(ctx context.Context, roots []string) (Summary, error) {
	if err := ix.reconcile(ctx); err != nil {
		return Summary{}, err
	}
	started := ix.o.Now()
	t := &tally{start: started, now: ix.o.Now, onFile: ix.o.OnFile, onProg: ix.o.OnProgress}
	err := ix.run(ctx, roots, t)
	s := t.summary()
	s.Interrupted = ctx.Err() != nil
	if s.Interrupted && err == nil {
		err = ctx.Err()
	}
	ix.saveRun(started, roots, s)
	return s, err
}

// reconcile makes a remote vector backend agree with the library's records once, before the
// first run writes (store.Namespace.Reconcile): orphan vectors are deleted, and records whose
// vector the backend lost are dropped so that this run, or the next over their folder, embeds
// them again. Nothing to do with a custom Catalog or the embedded backend.
func (ix *Indexer) reconcile(ctx context.Context) error {
	if ix.reconciled {
		return nil
	}
	if _, own := ix.cat.(*dbCatalog); !own {
		ix.reconciled = true
		return nil
	}
	r, err := ix.ns.Reconcile(ctx)
	if err != nil {
		return fmt.Errorf("store %s: %w", ix.lib.DB().Backend(), err)
	}
	for _, rec := range r.Lost {
		ix.o.Logger.Warn("the vector backend lost this image's vector; its record was dropped to be indexed again",
			"photo_id", rec.ID, "path", rec.Path)
	}
	if r.Orphans > 0 {
		ix.o.Logger.Info("deleted vectors without a record from the backend", "vectors", r.Orphans)
	}
	ix.reconciled = true
	return nil
}

// saveRun records the run in the library's last-run file.
func (ix *Indexer) saveRun(started time.Time, roots []string, s Summary) {
	abs := make([]string, len(roots))
	for i, r := range roots {
		var err error
		if abs[i], err = filepath.Abs(r); err != nil {
			abs[i] = r
		}
	}
	if serr := saveLastRun(ix.lib, LastRun{Started: started, Finished: ix.o.Now(), Roots: abs, Summary: s}); serr != nil {
		ix.o.Logger.Warn("cannot save the run summary", "err", serr)
	}
}

func (ix *Indexer) run(ctx context.Context, roots []string, t *tally) error {
	jobs := make(chan job, 2*ix.o.Workers)
	items := make(chan *item, ix.o.Batch+ix.o.Workers)
	batches := make(chan []*item, ix.o.Encoders)
	writerDone := make(chan struct{})
	g, gctx := errgroup.WithContext(ctx)

	g.Go(func() error {
		defer close(jobs)
		return ix.walk(gctx, roots, jobs, t)
	})
	if ix.o.OnProgress != nil {
		g.Go(func() error {
			if n, err := ix.count(gctx, roots); err == nil {
				t.setTotal(n)
			}
			return nil
		})
	}
	var workers sync.WaitGroup
	for range ix.o.Workers {
		workers.Go(func() {
			for j := range jobs {
				if gctx.Err() != nil {
					return
				}
				it := ix.process(j, t)
				if it == nil {
					continue
				}
				select {
				case items <- it:
				case <-gctx.Done():
					return
				}
			}
		})
	}
	go func() { workers.Wait(); close(items) }()
	g.Go(func() error { // batcher and encoder
		defer close(batches)
		return ix.encodeLoop(ctx, gctx, items, batches, writerDone)
	})
	g.Go(func() error { // committer
		defer close(writerDone)
		for b := range batches {
			if err := ix.commit(b, t); err != nil {
				return err
			}
		}
		return nil
	})
	err := g.Wait()
	workers.Wait() // they exit on gctx, which Wait has cancelled
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil // interruption is reported by Add
	}
	return err
}

// encodeLoop gathers items into batches, encodes the pixels of each batch (Encoders batches
// at once) and hands them to the committer. It stops starting batches when ctx is done, but
// finishes those under way.
func (ix *Indexer) encodeLoop(ctx, gctx context.Context, items <-chan *item, batches chan<- []*item, writerDone <-chan struct{}) error {
	todo := make(chan []*item)
	encoders, ectx := errgroup.WithContext(gctx) // a failed encoder stops the batcher
	for range ix.o.Encoders {
		encoders.Go(func() error {
			for b := range todo {
				if err := ix.encode(context.WithoutCancel(ctx), b); err != nil {
					return err
				}
				select {
				case batches <- b:
				case <-writerDone:
				}
			}
			return nil
		})
	}
	var batch []*item
	// flush hands the batch to a free encoder; false when the run is over (cancelled, or
	// an encoder failed and stopped taking batches).
	flush := func() bool {
		b := batch
		batch = nil
		if len(b) == 0 || ctx.Err() != nil {
			return ctx.Err() == nil
		}
		select {
		case todo <- b:
			return true
		case <-ectx.Done():
			return false
		}
	}
	func() {
		defer close(todo)
		for {
			select {
			case it, ok := <-items:
				if !ok {
					flush()
					return
				}
				batch = append(batch, it)
				if len(batch) >= ix.o.Batch && !flush() {
					return
				}
			case <-ectx.Done():
				return
			}
		}
	}()
	return encoders.Wait()
}

// encode runs the vision encoder on the batch's preprocessed images in one call.
func (ix *Indexer) encode(ctx context.Context, b []*item) error {
	per := ix.pre.Len()
	var idx []int
	for i, it := range b {
		if it.pix != nil {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil
	}
	pix := make([]float32, 0, len(idx)*per)
	for _, i := range idx {
		pix = append(pix, b[i].pix...)
	}
	start := time.Now()
	// a full cache of the copies policy takes no more tokens: none are copied out
	keep := ix.tokens != nil && (ix.o.Tokens != TokensCopies || !ix.tokens.Full())
	out, err := ix.model.Vision.EncodePixels(ctx, pix, encoder.VisionOptions{Tokens: keep})
	if err != nil {
		return fmt.Errorf("encode batch of %d images: %w", len(idx), err)
	}
	ix.o.Logger.Debug("encoded batch", "stage", "encode", "images", len(idx), "took", time.Since(start))
	for k, i := range idx {
		b[i].pix, b[i].vec = nil, out.Embeds[k]
		if !b[i].refill {
			b[i].status = StatusIndexed
		}
		if out.Tokens != nil {
			b[i].tok = out.Tokens[k]
		}
	}
	return nil
}

// commit stores a batch in one catalog transaction and reports its files. A content embedded
// by an earlier batch, or earlier in this one, is stored as a duplicate without its vector.
func (ix *Indexer) commit(b []*item, t *tally) error {
	batch := make([]store.NewImage, 0, len(b))
	kept := make([]*item, 0, len(b))
	inBatch := map[[32]byte]bool{}
	var fills []*item // unchanged files whose tokens or copy were missing: nothing else to store
	for _, it := range b {
		if it.refill {
			fills = append(fills, it)
			continue
		}
		sha := it.rec.SHA256
		known := inBatch[sha]
		if !known {
			has, err := ix.cat.HasContent(sha)
			if err != nil {
				return fmt.Errorf("store: %w", err)
			}
			known = has
		}
		vec := it.vec
		if known {
			vec, it.status = nil, StatusDuplicate
		} else if vec == nil {
			// Its twin was removed or replaced since the worker looked: no pixels to embed.
			t.file(FileResult{Path: it.rec.Path, Status: StatusFailed,
				Reason: "content changed while indexing; run again"})
			continue
		}
		inBatch[sha] = true
		batch = append(batch, store.NewImage{Record: it.rec, Vector: vec})
		kept = append(kept, it)
	}
	if len(batch) > 0 {
		if err := ix.cat.AddImages(batch); err != nil {
			return fmt.Errorf("store batch of %d images: %w", len(batch), err)
		}
	}
	ix.storeTokens(kept)
	ix.storeTokens(fills)
	ix.storeCopies(kept)
	ix.storeCopies(fills)
	for _, it := range append(kept, fills...) {
		t.file(FileResult{Path: it.rec.Path, Status: it.status})
	}
	return nil
}

// storeTokens puts the tokens of a committed batch's new contents into the token cache: with
// TokensEager always (the least recently used go past the budget), with TokensCopies while the
// cache has room (a copy stands in for the rest, and indexing evicts nothing a query used). A
// failure costs a recompute at query time, not the batch: it is logged.
func (ix *Indexer) storeTokens(kept []*item) {
	if ix.tokens == nil {
		return
	}
	for _, it := range kept {
		if it.tok == nil || (it.status != StatusIndexed && !it.refill) ||
			(ix.o.Tokens == TokensCopies && ix.tokens.Full()) {
			it.tok = nil
			continue
		}
		id, ok, err := ix.lib.DB().ContentID(it.rec.SHA256)
		if err == nil && ok {
			err = ix.tokens.Put(id, it.tok)
		}
		if err != nil {
			ix.o.Logger.Warn("token cache", "path", it.rec.Path, "error", err.Error())
		}
		it.tok = nil
	}
}
