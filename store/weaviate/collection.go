package weaviate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-openapi/strfmt"
	wv "github.com/weaviate/weaviate-go-client/v5/weaviate"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/auth"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/fault"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/grpc"
	"github.com/weaviate/weaviate/entities/models"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Collection is one Weaviate class of image objects. It is safe for
// concurrent use. Open does not contact the server: the class is checked
// or created by the first request (and again after a failure), so a
// process can start while the cluster is down and report it.
type Collection struct {
	o     Options
	nodes []*wv.Client
	cur   atomic.Int32 // index of the node requests go to first

	mu      sync.Mutex // guards ensured
	ensured bool

	failovers atomic.Int64
	retries   atomic.Int64
}

// Open returns the collection described by o. It fails only on bad
// options; see Collection for when the server is first contacted.
func Open(o Options) (*Collection, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Collection{o: o}
	scheme := "http"
	if o.TLS {
		scheme = "https"
	}
	for i, h := range o.Hosts {
		cfg := wv.Config{Host: h, Scheme: scheme, Timeout: o.Timeout,
			GrpcConfig: &grpc.Config{Host: o.GRPCHosts[i], Secured: o.TLS}}
		if o.APIKey != "" {
			cfg.AuthConfig = auth.ApiKey{Value: o.APIKey}
		}
		cl, err := wv.NewClient(cfg)
		if err != nil {
			return nil, fmt.Errorf("weaviate: client for %s: %w", h, err)
		}
		c.nodes = append(c.nodes, cl)
	}
	return c, nil
}

// Class returns the class name.
func (c *Collection) Class() string { return c.o.Class }

// Stats counts what the client did to hide failures: requests that went
// to another node because one could not be reached, and batch retries.
type Stats struct {
	Failovers, Retries int64
}

// Stats returns the counts since Open.
func (c *Collection) Stats() Stats {
	return Stats{Failovers: c.failovers.Load(), Retries: c.retries.Load()}
}

// Close releases the collection. (The client keeps no resources that
// outlive the process; Close exists for symmetry and future pools.)
func (c *Collection) Close() error { return nil }

// do runs fn against the nodes, starting with the current one and moving
// on while a node cannot be reached. It returns fn's last error.
func (c *Collection) do(ctx context.Context, fn func(ctx context.Context, cl *wv.Client) error) error {
	n := int32(len(c.nodes))
	start := c.cur.Load()
	var err error
	for i := range n {
		k := (start + i) % n
		rctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
		err = fn(rctx, c.nodes[k])
		cancel()
		if err == nil {
			if i > 0 {
				c.cur.CompareAndSwap(start, k)
			}
			return nil
		}
		if ctx.Err() != nil || !unreachable(err) {
			return err
		}
		if i+1 < n {
			c.failovers.Add(1)
			c.o.Logger.Warn("weaviate node unreachable, failing over", "host", c.o.Hosts[k],
				"next", c.o.Hosts[(k+1)%n], "err", err.Error())
		}
	}
	return err
}

// unreachable reports whether err means the node could not be reached or
// is not serving (as opposed to an answer refusing the request).
func unreachable(err error) bool {
	if err == nil {
		return false
	}
	if st, ok := status.FromError(unwrapAll(err)); ok {
		switch st.Code() {
		case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted, codes.ResourceExhausted:
			return true
		}
	}
	var ce *fault.WeaviateClientError
	if errors.As(err, &ce) && (ce.StatusCode == http.StatusServiceUnavailable || ce.StatusCode == http.StatusBadGateway ||
		ce.StatusCode == http.StatusGatewayTimeout) {
		return true
	}
	s := strings.ToLower(err.Error())
	for _, m := range []string{"connection refused", "connection reset", "eof", "broken pipe", "no such host",
		"i/o timeout", "deadline exceeded", "unavailable", "timeout", "no route to host"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// unwrapAll returns the innermost error of a chain.
func unwrapAll(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// failed wraps err: ErrUnavailable for transport failures, ErrRejected
// for answers refusing the request.
func (c *Collection) failed(op string, err error) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("weaviate %s %s: %w", op, c.o.Class, err)
	}
	if unreachable(err) {
		return fmt.Errorf("weaviate %s %s (%s): %w: %v", op, c.o.Class, strings.Join(c.o.Hosts, ","), ErrUnavailable, describe(err))
	}
	return fmt.Errorf("weaviate %s %s: %w: %v", op, c.o.Class, ErrRejected, describe(err))
}

// describe is err's message, with the client's transport error brought forward.
func describe(err error) string {
	var ce *fault.WeaviateClientError
	if errors.As(err, &ce) {
		if ce.DerivedFromError != nil {
			return ce.DerivedFromError.Error()
		}
		return fmt.Sprintf("status %d: %s", ce.StatusCode, ce.Msg)
	}
	return err.Error()
}

// Ping checks that a node answers and is ready, and that the class exists
// or can be created.
func (c *Collection) Ping(ctx context.Context) error {
	err := c.do(ctx, func(ctx context.Context, cl *wv.Client) error {
		ok, err := cl.Misc().ReadyChecker().Do(ctx)
		if err == nil && !ok {
			err = errors.New("node not ready: unavailable")
		}
		return err
	})
	if err != nil {
		return c.failed("ping", err)
	}
	return c.ensure(ctx)
}

// ensure checks the class, creating it when missing (once per Collection
// unless it fails).
func (c *Collection) ensure(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ensured {
		return nil
	}
	var have *models.Class
	err := c.do(ctx, func(ctx context.Context, cl *wv.Client) error {
		var err error
		have, err = cl.Schema().ClassGetter().WithClassName(c.o.Class).Do(ctx)
		var ce *fault.WeaviateClientError
		if errors.As(err, &ce) && ce.StatusCode == http.StatusNotFound {
			have, err = nil, nil
		}
		return err
	})
	if err != nil {
		return c.failed("get class", err)
	}
	if have == nil {
		err = c.do(ctx, func(ctx context.Context, cl *wv.Client) error {
			err := cl.Schema().ClassCreator().WithClass(c.classDef()).Do(ctx)
			if err != nil && strings.Contains(strings.ToLower(err.Error()), "already exists") {
				return nil // created meanwhile by another process
			}
			return err
		})
		if err != nil {
			return c.failed("create class", err)
		}
		c.o.Logger.Info("weaviate class created", "class", c.o.Class, "replicas", c.o.Replicas, "shards", c.o.Shards)
	} else if have.Description != c.o.Description {
		return fmt.Errorf("weaviate class %s holds %q, not %q: %w", c.o.Class, have.Description, c.o.Description, ErrMismatch)
	}
	c.ensured = true
	return nil
}

func (c *Collection) classDef() *models.Class {
	f, t := false, true
	return &models.Class{
		Class:           c.o.Class,
		Description:     c.o.Description,
		Vectorizer:      "none",
		VectorIndexType: "hnsw",
		VectorIndexConfig: map[string]any{
			"distance":       "cosine",
			"maxConnections": c.o.MaxConnections,
			"efConstruction": c.o.EfConstruction,
			"ef":             c.o.Ef,
		},
		ReplicationConfig: &models.ReplicationConfig{Factor: int64(c.o.Replicas), AsyncEnabled: c.o.Replicas > 1},
		ShardingConfig:    map[string]any{"desiredCount": c.o.Shards},
		Properties: []*models.Property{
			{Name: propPath, DataType: []string{"text"}, Tokenization: models.PropertyTokenizationField,
				IndexFilterable: &t, IndexSearchable: &f},
			{Name: propCaptured, DataType: []string{"int"}, IndexFilterable: &t, IndexRangeFilters: &t},
		},
	}
}

// Put upserts objs in one batch at the configured consistency level. A
// batch that fails, in whole or for some objects, is sent again (only its
// failed objects) up to Options.Retries times; an error means some of the
// objects may be stored and others not, and sending the same batch again
// is safe.
func (c *Collection) Put(ctx context.Context, objs []Object) error {
	if len(objs) == 0 {
		return nil
	}
	if err := c.ensure(ctx); err != nil {
		return err
	}
	todo := make([]*models.Object, len(objs))
	for i := range objs {
		o := &objs[i]
		if len(o.Vector) != c.o.Dim {
			return fmt.Errorf("weaviate put: image %d: %d values, want %d: %w", o.ID, len(o.Vector), c.o.Dim, ErrRejected)
		}
		if o.ID > MaxID {
			return fmt.Errorf("weaviate put: image id %d over %d: %w", o.ID, uint64(MaxID), ErrRejected)
		}
		todo[i] = &models.Object{Class: c.o.Class, ID: strfmt.UUID(UUID(o.ID)), Vector: o.Vector, Properties: o.properties()}
	}
	wait := c.o.RetryWait
	var last error
	for attempt := 0; ; attempt++ {
		var res []models.ObjectsGetResponse
		err := c.do(ctx, func(ctx context.Context, cl *wv.Client) error {
			var err error
			res, err = cl.Batch().ObjectsBatcher().WithObjects(todo...).WithConsistencyLevel(c.o.Consistency).Do(ctx)
			return err
		})
		if err == nil {
			var again []*models.Object
			for i := range res {
				if r := res[i].Result; r != nil && r.Errors != nil && len(r.Errors.Error) > 0 {
					again = append(again, todo[i])
					if last == nil || len(again) == 1 {
						last = fmt.Errorf("object %s: %s", todo[i].ID, r.Errors.Error[0].Message)
					}
				}
			}
			if len(again) == 0 {
				return nil
			}
			todo = again
			err = fmt.Errorf("%d of the batch's objects failed, e.g. %w", len(again), last)
		} else if !unreachable(err) && !retryable(err) {
			return c.failed("batch", err)
		}
		last = err
		if attempt+1 >= c.o.Retries || ctx.Err() != nil {
			break
		}
		c.retries.Add(1)
		c.o.Logger.Warn("weaviate batch failed, retrying", "class", c.o.Class, "objects", len(todo),
			"attempt", attempt+1, "wait", wait, "err", err.Error())
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		wait *= 2
	}
	return fmt.Errorf("weaviate batch of %d objects into %s, %d not stored after %d attempts: %w: %v",
		len(objs), c.o.Class, len(todo), c.o.Retries, ErrUnavailable, last)
}

// retryable reports whether a request answered with an error may succeed
// when sent again (a replica that could not be reached behind the node).
func retryable(err error) bool {
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "consistency") || strings.Contains(s, "replica") || strings.Contains(s, "500") ||
		strings.Contains(s, "internal")
}

// Delete removes the objects of ids (missing ones are not an error) at the
// configured consistency level, retrying like Put.
func (c *Collection) Delete(ctx context.Context, ids []uint64) error {
	if len(ids) == 0 {
		return nil
	}
	if err := c.ensure(ctx); err != nil {
		return err
	}
	const chunk = 1000
	for lo := 0; lo < len(ids); lo += chunk {
		part := ids[lo:min(lo+chunk, len(ids))]
		uuids := make([]string, len(part))
		for i, id := range part {
			uuids[i] = UUID(id)
		}
		w := filters.Where().WithPath([]string{"id"}).WithOperator(filters.ContainsAny).WithValueText(uuids...)
		wait := c.o.RetryWait
		for attempt := 0; ; attempt++ {
			err := c.do(ctx, func(ctx context.Context, cl *wv.Client) error {
				res, err := cl.Batch().ObjectsBatchDeleter().WithClassName(c.o.Class).WithWhere(w).
					WithConsistencyLevel(c.o.Consistency).WithOutput("minimal").Do(ctx)
				if err == nil && res != nil && res.Results != nil && res.Results.Failed > 0 {
					err = fmt.Errorf("%d of %d objects not deleted (replica unavailable?)", res.Results.Failed, len(part))
				}
				return err
			})
			if err == nil {
				break
			}
			if attempt+1 >= c.o.Retries || ctx.Err() != nil || (!unreachable(err) && !retryable(err)) {
				return c.failed("delete", err)
			}
			c.retries.Add(1)
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			}
			wait *= 2
		}
	}
	return nil
}

// Search returns up to k objects closest to vec by cosine, best first,
// among those passing f. Weaviate's Like has no escape, so a prefix
// holding * or ? matches a superset there and the paths are checked here
// (the result may then hold fewer than k hits).
func (c *Collection) Search(ctx context.Context, vec []float32, k int, f *Filter) ([]Hit, error) {
	if len(vec) != c.o.Dim {
		return nil, fmt.Errorf("weaviate search: %d values, want %d: %w", len(vec), c.o.Dim, ErrRejected)
	}
	if k <= 0 {
		return nil, nil
	}
	if err := c.ensure(ctx); err != nil {
		return nil, err
	}
	where, exact := f.where()
	props := []string{propCaptured}
	if !exact {
		props = []string{propPath}
	}
	var res []graphql.SearchResult
	err := c.do(ctx, func(ctx context.Context, cl *wv.Client) error {
		s := cl.Experimental().Search().WithCollection(c.o.Class).
			WithNearVector(cl.GraphQL().NearVectorArgBuilder().WithVector(vec)).
			WithLimit(k).WithConsistencyLevel(c.o.Consistency).
			WithMetadata(&graphql.Metadata{ID: true, Distance: true}).WithProperties(props...)
		if where != nil {
			s = s.WithWhere(where)
		}
		var err error
		res, err = s.Do(ctx)
		return err
	})
	if err != nil {
		return nil, c.failed("search", err)
	}
	hits := make([]Hit, 0, len(res))
	for _, r := range res {
		if !exact {
			if p, _ := r.Properties[propPath].(string); !strings.HasPrefix(p, f.PathPrefix) {
				continue
			}
		}
		id, err := ParseUUID(r.ID)
		if err != nil {
			return nil, err
		}
		hits = append(hits, Hit{ID: id, Score: 1 - r.Metadata.Distance})
	}
	return hits, nil
}

// Vector returns the stored vector of image id; ok is false when the
// collection has no such object. consistency "" is Options.Consistency.
func (c *Collection) Vector(ctx context.Context, id uint64, consistency string) (vec []float32, ok bool, err error) {
	if err := c.ensure(ctx); err != nil {
		return nil, false, err
	}
	if consistency == "" {
		consistency = c.o.Consistency
	}
	err = c.do(ctx, func(ctx context.Context, cl *wv.Client) error {
		objs, err := cl.Data().ObjectsGetter().WithClassName(c.o.Class).WithID(UUID(id)).WithVector().
			WithConsistencyLevel(consistency).Do(ctx)
		var ce *fault.WeaviateClientError
		if errors.As(err, &ce) && ce.StatusCode == http.StatusNotFound {
			vec, ok = nil, false
			return nil
		}
		if err != nil {
			return err
		}
		if len(objs) == 1 && len(objs[0].Vector) == c.o.Dim {
			vec, ok = []float32(objs[0].Vector), true
		}
		return nil
	})
	if err != nil {
		return nil, false, c.failed("get vector", err)
	}
	return vec, ok, nil
}

// Count returns the number of objects.
func (c *Collection) Count(ctx context.Context) (int, error) {
	if err := c.ensure(ctx); err != nil {
		return 0, err
	}
	var n int
	err := c.do(ctx, func(ctx context.Context, cl *wv.Client) error {
		res, err := cl.GraphQL().Aggregate().WithClassName(c.o.Class).
			WithFields(graphql.Field{Name: "meta", Fields: []graphql.Field{{Name: "count"}}}).Do(ctx)
		if err != nil {
			return err
		}
		if len(res.Errors) > 0 {
			return fmt.Errorf("aggregate: %s", res.Errors[0].Message)
		}
		n, err = aggregateCount(res.Data, c.o.Class)
		return err
	})
	if err != nil {
		return 0, c.failed("count", err)
	}
	return n, nil
}

func aggregateCount(data map[string]models.JSONObject, class string) (int, error) {
	agg, _ := data["Aggregate"].(map[string]any)
	rows, _ := agg[class].([]any)
	if len(rows) == 0 {
		return 0, fmt.Errorf("aggregate: no rows for %s", class)
	}
	row, _ := rows[0].(map[string]any)
	meta, _ := row["meta"].(map[string]any)
	cnt, ok := meta["count"].(float64)
	if !ok {
		return 0, fmt.Errorf("aggregate: no count for %s", class)
	}
	return int(cnt), nil
}

// IDs returns up to limit image ids greater than after, in order (the
// cursor of Weaviate, over the UUIDs), and with vectors set, their vectors.
func (c *Collection) IDs(ctx context.Context, after uint64, limit int, vectors bool) ([]uint64, [][]float32, error) {
	if err := c.ensure(ctx); err != nil {
		return nil, nil, err
	}
	var res []graphql.SearchResult
	err := c.do(ctx, func(ctx context.Context, cl *wv.Client) error {
		s := cl.Experimental().Search().WithCollection(c.o.Class).WithLimit(limit).
			WithConsistencyLevel(c.o.Consistency).WithProperties(propCaptured).
			WithMetadata(&graphql.Metadata{ID: true, Vector: vectors})
		if after > 0 {
			s = s.WithAfter(UUID(after))
		}
		var err error
		res, err = s.Do(ctx)
		return err
	})
	if err != nil {
		return nil, nil, c.failed("list", err)
	}
	ids := make([]uint64, len(res))
	var vecs [][]float32
	if vectors {
		vecs = make([][]float32, len(res))
	}
	for i, r := range res {
		if ids[i], err = ParseUUID(r.ID); err != nil {
			return nil, nil, err
		}
		if vectors {
			vecs[i] = r.Vector
		}
	}
	return ids, vecs, nil
}
