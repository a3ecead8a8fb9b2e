package web

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestGracefulShutdown starts a search that waits for a computing slot, shuts the server down
// while it waits, and checks that /readyz turns not-ready, the listener closes, the search
// still completes with 200, and Serve returns nil.
func TestGracefulShutdown(t *testing.T) {
	f := newFixture(t, 2, Options{NoRateLimit: true})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- f.srv.Serve(ctx, ln) }()

	for range cap(f.srv.slots) { // every slot busy: the search waits
		f.srv.slots <- struct{}{}
	}
	type answer struct {
		code int
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/api/v1/search?q=a+red+circle&k=2")
		if err != nil {
			got <- answer{err: err}
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got <- answer{code: resp.StatusCode}
	}()
	waitFor(t, func() bool { return testutil.ToFloat64(f.srv.metrics.inflight) >= 1 })

	cancel() // shut down with the search in flight
	waitFor(t, func() bool { return f.do(t, req{target: "/readyz"}).Code == http.StatusServiceUnavailable })
	if w := f.do(t, req{target: "/readyz"}); !contains(w.Body.String(), "shutting down") {
		t.Errorf("readyz: %s", w.Body.String())
	}
	waitFor(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case a := <-got:
		t.Fatalf("the search ended before its slot came free: %+v", a)
	case <-served:
		t.Fatal("Serve returned with a request in flight")
	default:
	}
	for range cap(f.srv.slots) {
		<-f.srv.slots
	}
	if a := <-got; a.err != nil || a.code != http.StatusOK {
		t.Fatalf("in-flight search: %+v", a)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// TestReady checks /readyz with a model that does not answer and with a closed store.
func TestReady(t *testing.T) {
	f := newFixture(t, 0, Options{ModelProbe: func(context.Context) error { return errors.New("session gone") }})
	w := f.do(t, req{target: "/readyz"})
	r := decode[Ready](t, w)
	if w.Code != 503 || r.Ready || r.Checks["model"] == "ok" || !contains(r.Reason, "model", "session gone") {
		t.Fatalf("%d %+v", w.Code, r)
	}
	g := newFixture(t, 0, Options{})
	if w := g.do(t, req{target: "/readyz"}); w.Code != 200 {
		t.Fatalf("ready: %d %s", w.Code, w.Body.String())
	}
	g.lib.Close()
	w = g.do(t, req{target: "/readyz"})
	r = decode[Ready](t, w)
	if w.Code != 503 || !contains(r.Reason, "store") {
		t.Fatalf("closed store: %d %+v", w.Code, r)
	}
}

func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	tb.Fatal("condition not met in 10 s")
}
