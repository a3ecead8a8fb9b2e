package weaviate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/glimpse-search/glimpse/internal/testenv"
	"github.com/glimpse-search/glimpse/store/weaviate/weaviatetest"
)

// EnvServer names the weaviate-server binary for the tests that run one
// (make weaviate-server builds it; make test sets it).
const EnvServer = "GLIMPSE_WEAVIATE_SERVER"

func TestUUID(t *testing.T) {
	for _, id := range []uint64{0, 1, 255, 1 << 40, MaxID} {
		u := UUID(id)
		if len(u) != 36 {
			t.Fatalf("%d: %q", id, u)
		}
		got, err := ParseUUID(strings.ToUpper(u))
		if err != nil || got != id {
			t.Fatalf("%d -> %q -> %d, %v", id, u, got, err)
		}
	}
	for _, bad := range []string{"", "00000000-0000-0000-0000-000000000001", uuidPrefix + "xyz", uuidPrefix + "0000000000011"} {
		if _, err := ParseUUID(bad); err == nil {
			t.Fatalf("%q parsed", bad)
		}
	}
	if UUID(1) > UUID(2) || UUID(255) > UUID(256) {
		t.Fatal("UUIDs out of id order")
	}
}

func TestFilterWhere(t *testing.T) {
	day := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		f     *Filter
		want  string // the GraphQL form, "" for no filter
		exact bool
	}{
		{"none", nil, "", true},
		{"empty", &Filter{}, "", true},
		{"folder", &Filter{PathPrefix: "/photos/2023/"}, `where:{operator: Like path: ["path"] valueText: "/photos/2023/*"}`, true},
		{"wildcards", &Filter{PathPrefix: "/a*b?/"}, `where:{operator: Like path: ["path"] valueText: "/a?b?/*"}`, false},
		{"from", &Filter{From: day}, fmt.Sprintf(`where:{operator: GreaterThanEqual path: ["captured"] valueInt: %d}`, day.UnixMicro()), true},
		{"range rounds up", &Filter{From: day.Add(1), To: day.Add(time.Hour + 1500)},
			fmt.Sprintf(`where:{operator: And operands:[{operator: GreaterThanEqual path: ["captured"] valueInt: %d},{operator: LessThan path: ["captured"] valueInt: %d}]}`,
				day.UnixMicro()+1, day.Add(time.Hour).UnixMicro()+2), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, exact := tc.f.where()
			got := ""
			if w != nil {
				got = w.String()
			}
			if got != tc.want || exact != tc.exact {
				t.Fatalf("got %s (exact %v)\nwant %s (exact %v)", got, exact, tc.want, tc.exact)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		ok   bool
	}{
		{"ok", Options{Hosts: []string{"h:1"}, Class: "Glimpse_x", Dim: 4}, true},
		{"no host", Options{Class: "A", Dim: 4}, false},
		{"bad class", Options{Hosts: []string{"h:1"}, Class: "9a", Dim: 4}, false},
		{"no dim", Options{Hosts: []string{"h:1"}, Class: "A"}, false},
		{"grpc count", Options{Hosts: []string{"h:1"}, GRPCHosts: []string{"a:1", "b:2"}, Class: "A", Dim: 4}, false},
		{"consistency", Options{Hosts: []string{"h:1"}, Class: "A", Dim: 4, Consistency: "TWO"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := tc.o.withDefaults()
			if (err == nil) != tc.ok {
				t.Fatalf("%+v: %v", o, err)
			}
			if tc.ok && (o.GRPCHosts[0] != "h:50051" || o.Consistency != Quorum || o.Ef != -1) {
				t.Fatalf("defaults: %+v", o)
			}
		})
	}
}

// serverBin returns the weaviate-server binary, or skips (fails under GLIMPSE_REQUIRE_ALL=1).
func serverBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv(EnvServer)
	if bin == "" {
		testenv.Missing(t, "%s not set: build the server with `make weaviate-server` (make test-cluster does) to run this test", EnvServer)
	}
	return bin
}

// TestCollectionOneNode runs every Collection operation against one real
// node: upserts, filters, deletes, cursor, count, failover to it from a
// dead host, and the errors when the node is down.
func TestCollectionOneNode(t *testing.T) {
	bin := serverBin(t)
	ctx := context.Background()
	cl, err := weaviatetest.Start(ctx, weaviatetest.Options{Bin: bin, Dir: t.TempDir(), Nice: 19, Env: []string{"GOMAXPROCS=1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	n := cl.Nodes[0]
	dead := "127.0.0.1:1"
	c, err := Open(Options{Hosts: []string{dead, fmt.Sprintf("127.0.0.1:%d", n.REST)},
		GRPCHosts: []string{"127.0.0.1:2", fmt.Sprintf("127.0.0.1:%d", n.GRPC)},
		Class:     "Test_one", Description: "test", Dim: 8, Consistency: One, Retries: 2, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	day := time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
	objs := make([]Object, 300)
	for i := range objs {
		v := make([]float32, 8)
		var s float64
		for j := range v {
			v[j] = float32(rng.NormFloat64())
			s += float64(v[j] * v[j])
		}
		for j := range v {
			v[j] /= float32(math.Sqrt(s))
		}
		objs[i] = Object{ID: uint64(i + 1), Vector: v, Path: fmt.Sprintf("/p/f%d/img%03d.jpg", i%3, i)}
		if i%5 != 0 {
			objs[i].Captured = day.Add(time.Duration(i) * time.Hour)
		}
	}
	objs[7].Path = "/p/we*ird?/x.jpg"
	for lo := 0; lo < len(objs); lo += 100 {
		if err := c.Put(ctx, objs[lo:lo+100]); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Put(ctx, objs[:50]); err != nil { // idempotent
		t.Fatal(err)
	}
	if got, err := c.Count(ctx); err != nil || got != 300 {
		t.Fatalf("count %d, %v", got, err)
	}
	exact := func(q []float32, k int, pass func(o *Object) bool) []uint64 {
		type sc struct {
			id uint64
			s  float32
		}
		var all []sc
		for i := range objs {
			if pass(&objs[i]) {
				var d float32
				for j := range q {
					d += q[j] * objs[i].Vector[j]
				}
				all = append(all, sc{objs[i].ID, d})
			}
		}
		sort.Slice(all, func(i, j int) bool { return all[i].s > all[j].s })
		var out []uint64
		for _, a := range all[:min(k, len(all))] {
			out = append(out, a.id)
		}
		return out
	}
	from, to := day.Add(50*time.Hour), day.Add(200*time.Hour)
	for _, tc := range []struct {
		name string
		f    *Filter
		pass func(o *Object) bool
	}{
		{"all", nil, func(*Object) bool { return true }},
		{"folder", &Filter{PathPrefix: "/p/f1/"}, func(o *Object) bool { return strings.HasPrefix(o.Path, "/p/f1/") }},
		{"wildcard prefix", &Filter{PathPrefix: "/p/we*ird?/"}, func(o *Object) bool { return strings.HasPrefix(o.Path, "/p/we*ird?/") }},
		{"dates", &Filter{From: from, To: to}, func(o *Object) bool {
			return !o.Captured.IsZero() && !o.Captured.Before(from) && o.Captured.Before(to)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for q := range 5 {
				hits, err := c.Search(ctx, objs[q*17].Vector, 10, tc.f)
				if err != nil {
					t.Fatal(err)
				}
				var got []uint64
				for _, h := range hits {
					got = append(got, h.ID)
				}
				want := exact(objs[q*17].Vector, 10, tc.pass)
				if !slices.Equal(got, want) {
					t.Fatalf("query %d: got %v want %v", q, got, want)
				}
			}
		})
	}
	v, ok, err := c.Vector(ctx, 42, "")
	if err != nil || !ok || len(v) != 8 {
		t.Fatalf("vector: %v %v %v", v, ok, err)
	}
	if _, ok, err := c.Vector(ctx, 4242, ""); err != nil || ok {
		t.Fatalf("missing vector: %v %v", ok, err)
	}
	if err := c.Delete(ctx, []uint64{1, 2, 3, 999}); err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for after := uint64(0); ; {
		page, _, err := c.IDs(ctx, after, 64, false)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, page...)
		if len(page) < 64 {
			break
		}
		after = page[len(page)-1]
	}
	if len(ids) != 297 || ids[0] != 4 || !slices.IsSorted(ids) {
		t.Fatalf("ids after delete: %d, first %v", len(ids), ids[:min(3, len(ids))])
	}
	if st := c.Stats(); st.Failovers == 0 {
		t.Fatalf("no failover from the dead host recorded: %+v", st)
	}
	// the same class with another description is refused
	other, _ := Open(Options{Hosts: []string{fmt.Sprintf("127.0.0.1:%d", n.REST)}, GRPCHosts: []string{fmt.Sprintf("127.0.0.1:%d", n.GRPC)},
		Class: "Test_one", Description: "another model", Dim: 8})
	if _, err := other.Count(ctx); !errors.Is(err, ErrMismatch) {
		t.Fatalf("description mismatch: %v", err)
	}

	if err := cl.Kill(0); err != nil {
		t.Fatal(err)
	}
	down, _ := Open(Options{Hosts: []string{fmt.Sprintf("127.0.0.1:%d", n.REST)}, GRPCHosts: []string{fmt.Sprintf("127.0.0.1:%d", n.GRPC)},
		Class: "Test_one", Description: "test", Dim: 8, Retries: 2, RetryWait: 10 * time.Millisecond})
	for name, err := range map[string]error{
		"ping":   down.Ping(ctx),
		"put":    down.Put(ctx, objs[:1]),
		"search": func() error { _, err := c.Search(ctx, objs[0].Vector, 5, nil); return err }(),
	} {
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s with the node down: %v; want ErrUnavailable", name, err)
		}
	}
}
