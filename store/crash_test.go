package store

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

const (
	crashEnv   = "GLIMPSE_STORE_CRASH_DIR"
	crashBatch = 40
)

// crashVec is image i's vector: one of 16 cluster centres plus noise.
func crashVec(i int, salt uint64) []float32 {
	c := rand.New(rand.NewPCG(uint64(i%16), 99))
	r := rand.New(rand.NewPCG(uint64(i), salt))
	v := make([]float32, testModel.Dim)
	for j := range v {
		v[j] = float32(c.NormFloat64()) + 0.7*float32(r.NormFloat64())
	}
	return v
}

// TestMain runs the kill -9 child of TestCrashKill9 when asked.
func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnv); dir != "" {
		err := crashWriter(dir)
		fmt.Fprintln(os.Stderr, "crash writer:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// crashWriter is the child process of TestCrashKill9: it appends batches
// until it is killed, recording each committed batch number in a sidecar
// file fsynced after the commit. It returns only on an error.
func crashWriter(dir string) error {
	db, err := Open(filepath.Join(dir, "crash.db"), Options{})
	if err != nil {
		return err
	}
	ns, err := db.Namespace(testModel, NamespaceOptions{})
	if err != nil {
		return err
	}
	side, err := os.OpenFile(filepath.Join(dir, "committed"), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	for b := db.ImageCount() / crashBatch; ; b++ {
		items := make([]NewImage, 0, crashBatch+1)
		for i := b * crashBatch; i < (b+1)*crashBatch; i++ {
			items = append(items, newImage(i, crashVec(i, 1)))
		}
		if b > 0 { // also re-embed an image of the previous batch (update path)
			u := newImage((b-1)*crashBatch+b%crashBatch, nil)
			u.Record.SHA256 = sha256.Sum256([]byte(fmt.Sprint("update", b)))
			u.Vector = crashVec((b-1)*crashBatch+b%crashBatch, 2)
			items = append(items, u)
		}
		if _, err := ns.AddImages(items); err != nil {
			return err
		}
		if _, err := fmt.Fprintln(side, b); err != nil {
			return err
		}
		if err := side.Sync(); err != nil {
			return err
		}
	}
}

func TestCrashKill9(t *testing.T) {
	iterations := 12
	if testing.Short() {
		iterations = 5
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(42, 42))
	for it := range iterations {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(150+rng.IntN(600)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("iteration %d: child ended with %v before the kill:\n%s", it, err, out.String())
		}
		n := verifyCrash(t, dir)
		t.Logf("iteration %d: %d images committed", it, n)
	}
}

// verifyCrash checks the reopened file holds exactly whole committed
// batches and a consistent, searchable graph. It returns the image count.
func verifyCrash(t *testing.T, dir string) int {
	t.Helper()
	last := -1
	if f, err := os.Open(filepath.Join(dir, "committed")); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, err := strconv.Atoi(sc.Text()); err == nil {
				last = v
			}
		}
		_ = f.Close()
	}
	db, err := Open(filepath.Join(dir, "crash.db"), Options{})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer db.Close()
	n := db.ImageCount()
	if n%crashBatch != 0 {
		t.Fatalf("%d images: a partial batch is visible", n)
	}
	if b := n / crashBatch; b != last+1 && b != last+2 {
		t.Fatalf("%d batches stored, %d recorded as committed", b, last+1)
	}
	if n == 0 {
		return 0
	}
	ns, err := db.Namespace(testModel, NamespaceOptions{NoCreate: true})
	if err != nil {
		t.Fatalf("namespace after kill (graph must load and agree with vectors): %v", err)
	}
	if ns.Len() != n {
		t.Fatalf("%d embeddings for %d images", ns.Len(), n)
	}
	for _, i := range []int{0, n / 2, n - 1} {
		if _, err := db.ImageByPath(newImage(i, nil).Record.Path); err != nil {
			t.Fatalf("image %d: %v", i, err)
		}
	}
	if _, err := db.ImageByPath(newImage(n, nil).Record.Path); !errors.Is(err, ErrNotFound) {
		t.Fatalf("image %d of an uncommitted batch: %v", n, err)
	}
	db.mu.RLock()
	for _, cid := range ns.img.idx.IDs() {
		if cid >= uint64(len(db.contents)) || len(db.contents[cid]) == 0 {
			t.Errorf("embedding %d has no image", cid)
		}
	}
	db.mu.RUnlock()
	var qs [][]float32
	for i := range 20 {
		qs = append(qs, crashVec(1_000_000+i, 3))
	}
	if r := recallDB(t, ns, qs, nil); r < 0.9 {
		t.Fatalf("recall after kill %.3f", r)
	}
	return n
}
