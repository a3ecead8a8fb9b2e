package rerank

import (
	"container/list"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCacheBudget is CacheOptions.Budget when zero: 1 GiB, about 64,000 tiny-scenes images
// (65 x 128 tokens, 16.6 KiB each) or 1,200 mPLUG-large images (577 x 768, 0.9 MB each).
const DefaultCacheBudget = 1 << 30

// cache file: magic, token count (uint32 LE), then that many fp16 values (LE).
const (
	cacheMagic  = "GTK1"
	cacheHeader = 8
	cacheExt    = ".f16"
)

// CacheOptions configures [OpenTokenCache].
type CacheOptions struct {
	// Dir holds one file per image content (required; created if missing). Use one folder per
	// model: tokens of different models are not interchangeable (a file of the wrong length is
	// treated as a miss and replaced).
	Dir string
	// TokenLen is N*C, the length of one image's tokens (required).
	TokenLen int
	// Budget caps the bytes of cache files (default DefaultCacheBudget). Past it the least
	// recently used files are deleted. Recency is kept in memory; after a reopen it starts from
	// the files' modification times.
	Budget int64
	// Fill computes missing tokens, which are then stored (usually a [Recompute]). Nil: a miss
	// is an [ErrUnavailable] error.
	Fill Source
	// Logger receives warnings (unwritable cache files). Nil: silent.
	Logger *slog.Logger
}

// TokenCache is the [Source] that reads image tokens from fp16 files (half the bytes of float32;
// the ITM scores move by about 1e-3) and fills misses from CacheOptions.Fill. It is safe for
// concurrent use.
type TokenCache struct {
	dir      string
	tokenLen int
	budget   int64
	fill     Source
	log      *slog.Logger
	workers  int

	mu      sync.Mutex
	lru     *list.List               // front: most recent; values are uint64 content ids
	entries map[uint64]*list.Element // content id -> lru element
	sizes   map[uint64]int64
	size    int64
}

// OpenTokenCache opens (creating it if needed) the cache folder and indexes its files.
func OpenTokenCache(o CacheOptions) (*TokenCache, error) {
	if o.Dir == "" || o.TokenLen <= 0 {
		return nil, fmt.Errorf("token cache: need a folder and a token length, got %q and %d", o.Dir, o.TokenLen)
	}
	if o.Budget <= 0 {
		o.Budget = DefaultCacheBudget
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("token cache: %w", err)
	}
	c := &TokenCache{dir: o.Dir, tokenLen: o.TokenLen, budget: o.Budget, fill: o.Fill, log: o.Logger,
		workers: max(1, runtime.GOMAXPROCS(0)),
		lru:     list.New(), entries: map[uint64]*list.Element{}, sizes: map[uint64]int64{}}
	des, err := os.ReadDir(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("token cache: %w", err)
	}
	type file struct {
		id   uint64
		size int64
		mod  time.Time
	}
	var files []file
	for _, de := range des {
		name := de.Name()
		if !de.Type().IsRegular() {
			continue
		}
		if strings.HasPrefix(name, ".tmp") { // an interrupted write
			_ = os.Remove(filepath.Join(o.Dir, name))
			continue
		}
		id, ok := parseName(name)
		if !ok {
			continue
		}
		info, err := de.Info()
		if err != nil {
			continue
		}
		files = append(files, file{id, info.Size(), info.ModTime()})
	}
	slices.SortFunc(files, func(a, b file) int { return a.mod.Compare(b.mod) })
	for _, f := range files { // oldest first, each pushed to the front
		c.entries[f.id] = c.lru.PushFront(f.id)
		c.sizes[f.id] = f.size
		c.size += f.size
	}
	c.mu.Lock()
	c.evict()
	c.mu.Unlock()
	return c, nil
}

func fileName(id uint64) string { return strconv.FormatUint(id, 16) + cacheExt }

func parseName(name string) (uint64, bool) {
	stem, ok := strings.CutSuffix(name, cacheExt)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseUint(stem, 16, 64)
	return id, err == nil
}

// TokenLen is N*C, the length of one image's tokens.
func (c *TokenCache) TokenLen() int { return c.tokenLen }

// Len is the number of cached images; Size their bytes on disk.
func (c *TokenCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Size is the bytes of cache files.
func (c *TokenCache) Size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}

// Has reports whether the cache holds a file for the content (known since it opened, or
// written since by another writer into its folder), without reading it.
func (c *TokenCache) Has(contentID uint64) bool {
	c.mu.Lock()
	_, ok := c.entries[contentID]
	c.mu.Unlock()
	if ok {
		return true
	}
	st, err := os.Stat(filepath.Join(c.dir, fileName(contentID)))
	return err == nil && st.Size() == int64(c.fileLen())
}

// Full reports whether one more image's tokens would push the cache past its budget (and so
// evict the least recently used).
func (c *TokenCache) Full() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size+int64(c.fileLen()) > c.budget
}

// Get returns the cached tokens of a content, if present and intact.
func (c *TokenCache) Get(contentID uint64) ([]float32, bool) {
	out := make([]float32, c.tokenLen)
	if !c.getInto(contentID, out, nil) {
		return nil, false
	}
	return out, true
}

// getInto decodes a content's cached tokens into dst (tokenLen values), reading through buf
// (nil: allocated) when it has room for a file and one byte more.
func (c *TokenCache) getInto(contentID uint64, dst []float32, buf []byte) bool {
	c.mu.Lock()
	e, ok := c.entries[contentID]
	if ok {
		c.lru.MoveToFront(e)
	}
	c.mu.Unlock()
	if c.read(contentID, dst, buf) {
		if !ok { // written since this cache was opened (the indexer stores tokens as it embeds)
			c.adopt(contentID)
		}
		return true
	}
	if ok {
		c.drop(contentID) // vanished or damaged: forget it, a fill replaces it
	}
	return false
}

// adopt counts a file that another writer put into the folder as the most recent entry.
func (c *TokenCache) adopt(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[id]; ok {
		return
	}
	c.entries[id] = c.lru.PushFront(id)
	n := int64(c.fileLen())
	c.sizes[id] = n
	c.size += n
	c.evict()
}

// fileLen is the size of a cache file.
func (c *TokenCache) fileLen() int { return cacheHeader + 2*c.tokenLen }

// read reads and decodes a cache file into dst; a missing, short, long or foreign file is a miss.
func (c *TokenCache) read(id uint64, dst []float32, buf []byte) bool {
	want := c.fileLen()
	if len(buf) < want+1 {
		buf = make([]byte, want+1) // one more byte: a longer file reads past want
	}
	n, err := readFile(filepath.Join(c.dir, fileName(id)), buf[:want+1])
	if err != nil || n != want {
		return false
	}
	return c.decode(buf[:want], dst)
}

// decode checks a cache file's header and converts its values into dst.
func (c *TokenCache) decode(data []byte, dst []float32) bool {
	if len(data) != c.fileLen() || len(dst) != c.tokenLen || string(data[:4]) != cacheMagic ||
		binary.LittleEndian.Uint32(data[4:8]) != uint32(c.tokenLen) {
		return false
	}
	decodeHalves(dst, data[cacheHeader:])
	return true
}

func (c *TokenCache) drop(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[id]; ok {
		c.lru.Remove(e)
		delete(c.entries, id)
		c.size -= c.sizes[id]
		delete(c.sizes, id)
	}
	_ = os.Remove(filepath.Join(c.dir, fileName(id)))
}

// Put stores a content's tokens (a temporary file renamed into place), then evicts the least
// recently used files past the budget. The indexer, which computes image tokens anyway, can
// fill the cache this way at no extra model cost.
func (c *TokenCache) Put(contentID uint64, tokens []float32) error {
	if len(tokens) != c.tokenLen {
		return fmt.Errorf("%w: token cache put %d: %d values, want %d", ErrInput, contentID, len(tokens), c.tokenLen)
	}
	buf := make([]byte, cacheHeader+2*len(tokens))
	copy(buf, cacheMagic)
	binary.LittleEndian.PutUint32(buf[4:], uint32(len(tokens)))
	for i, v := range tokens {
		binary.LittleEndian.PutUint16(buf[cacheHeader+2*i:], halfFromFloat(v))
	}
	f, err := os.CreateTemp(c.dir, ".tmp*")
	if err != nil {
		return fmt.Errorf("token cache put %d: %w", contentID, err)
	}
	_, werr := f.Write(buf)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("token cache put %d: %w", contentID, err)
	}
	if err := os.Rename(f.Name(), filepath.Join(c.dir, fileName(contentID))); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("token cache put %d: %w", contentID, err)
	}
	n := int64(len(buf))
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[contentID]; ok {
		c.lru.MoveToFront(e)
		c.size -= c.sizes[contentID]
	} else {
		c.entries[contentID] = c.lru.PushFront(contentID)
	}
	c.sizes[contentID] = n
	c.size += n
	c.evict()
	return nil
}

// evict deletes least recently used files until the cache fits its budget. Caller holds mu.
func (c *TokenCache) evict() {
	for c.size > c.budget && c.lru.Len() > 0 {
		e := c.lru.Back()
		id := e.Value.(uint64)
		c.lru.Remove(e)
		delete(c.entries, id)
		c.size -= c.sizes[id]
		delete(c.sizes, id)
		if err := os.Remove(filepath.Join(c.dir, fileName(id))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			c.log.Warn("token cache: evict", slog.Uint64("content_id", id), slog.String("error", err.Error()))
		}
	}
}

// Tokens implements [Source]: cached tokens first, the misses from Fill (stored afterwards).
func (c *TokenCache) Tokens(ctx context.Context, refs []ImageRef, st *Stats) ([][]float32, []error) {
	return c.TokensInto(ctx, refs, nil, st)
}

// TokensInto is Tokens decoding the cached tokens into buf, which must hold len(refs) x TokenLen
// values (nil or shorter: a new one is allocated); the returned hits alias it, tokens[i] at
// buf[i*TokenLen:]. A caller that reuses buf once it is done with the tokens saves allocating
// and zeroing them for every query (4.3 MB at K = 128 with tiny-scenes), and the GC cycles that
// those allocations bring. Tokens filled on a miss are Fill's, not buf's.
func (c *TokenCache) TokensInto(ctx context.Context, refs []ImageRef, buf []float32, st *Stats) ([][]float32, []error) {
	out := make([][]float32, len(refs))
	t0 := time.Now()
	if len(buf) < len(refs)*c.tokenLen {
		buf = make([]float32, len(refs)*c.tokenLen)
	}
	// reads and conversions in parallel; each worker takes the next candidate, so one that is
	// held up (a cold file, a preempted thread) does not leave a share behind for the others
	var next atomic.Int64
	workers := min(c.workers, len(refs))
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			fbuf := make([]byte, c.fileLen()+1)
			for i := int(next.Add(1) - 1); i < len(refs); i = int(next.Add(1) - 1) {
				dst := buf[i*c.tokenLen : (i+1)*c.tokenLen : (i+1)*c.tokenLen]
				if c.getInto(refs[i].ContentID, dst, fbuf) {
					out[i] = dst
				}
			}
		})
	}
	wg.Wait()
	var miss []int
	for i := range refs {
		if out[i] == nil {
			miss = append(miss, i)
		}
	}
	if st != nil {
		st.Hits += len(refs) - len(miss)
		st.Read += time.Since(t0)
	}
	if len(miss) == 0 {
		return out, nil
	}
	errs := make([]error, len(refs))
	if c.fill == nil {
		if st != nil {
			st.Misses += len(miss)
		}
		for _, i := range miss {
			errs[i] = fmt.Errorf("%w: content %d is not cached", ErrUnavailable, refs[i].ContentID)
		}
		return out, errs
	}
	mrefs := make([]ImageRef, len(miss))
	for j, i := range miss {
		mrefs[j] = refs[i]
	}
	toks, ferrs := c.fill.Tokens(ctx, mrefs, st)
	failed := false
	for j, i := range miss {
		if ferrs != nil && ferrs[j] != nil {
			errs[i], failed = ferrs[j], true
			continue
		}
		out[i] = roundHalf(toks[j]) // what a later hit reads back: the same scores either way
		if err := c.Put(refs[i].ContentID, toks[j]); err != nil {
			c.log.Warn("token cache: store", slog.Uint64("content_id", refs[i].ContentID),
				slog.String("error", err.Error()))
		}
	}
	if !failed {
		return out, nil
	}
	return out, errs
}
