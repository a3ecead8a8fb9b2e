package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

//go:embed peers.py
var peersScript []byte

// writeFbin writes rows as big-ann .fbin: uint32 n, uint32 d, float32 n*d.
func writeFbin(path string, data []float32, dim int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	hdr := binary.LittleEndian.AppendUint32(nil, uint32(len(data)/dim))
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(dim))
	_, _ = w.Write(hdr)
	if err := binary.Write(w, binary.LittleEndian, data); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

type peerPoint struct {
	Ef     int       `json:"ef"`
	QPS    float64   `json:"qps"`
	QPSCPU float64   `json:"qps_cpu"`
	IDs    [][]int32 `json:"ids"`
}

type peerResult struct {
	Impl        string      `json:"impl"`
	BuildS      float64     `json:"build_s"`
	BuildCPUS   float64     `json:"build_cpu_s"`
	OpenS       float64     `json:"open_s"`
	OpenCPUS    float64     `json:"open_cpu_s"`
	BytesPerVec float64     `json:"bytes_per_vec"`
	Points      []peerPoint `json:"points"`
	Skipped     string      `json:"skipped"`
}

// runPeers runs peers.py with python on base/queries and scores its ids.
func runPeers(ctx context.Context, python, dir string, base, queries []float32, gt [][]int32,
	efs []int, stderr io.Writer) ([]Result, error) {
	skipAll := func(why string) []Result {
		return []Result{{Impl: "hnswlib", Skipped: why}, {Impl: "faiss-hnsw", Skipped: why}}
	}
	if _, err := exec.LookPath(python); err != nil {
		return skipAll(fmt.Sprintf("%s not found", python)), nil
	}
	script := filepath.Join(dir, "peers.py")
	bp, qp := filepath.Join(dir, "base.fbin"), filepath.Join(dir, "queries.fbin")
	if err := os.WriteFile(script, peersScript, 0o600); err != nil {
		return nil, err
	}
	if err := writeFbin(bp, base, dataDim); err != nil {
		return nil, err
	}
	if err := writeFbin(qp, queries, dataDim); err != nil {
		return nil, err
	}
	es := make([]string, len(efs))
	for i, e := range efs {
		es[i] = strconv.Itoa(e)
	}
	cmd := exec.CommandContext(ctx, python, script, bp, qp, dir, strings.Join(es, ","), "16", "200", strconv.Itoa(repeats))
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1", "OMP_WAIT_POLICY=PASSIVE")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, stderr
	if err := cmd.Run(); err != nil {
		return skipAll(fmt.Sprintf("peers.py failed: %v", err)), nil
	}
	var pr struct{ Results []peerResult }
	if err := json.Unmarshal(out.Bytes(), &pr); err != nil {
		return skipAll(fmt.Sprintf("peers.py output: %v", err)), nil
	}
	var res []Result
	for _, p := range pr.Results {
		r := Result{Impl: p.Impl, BuildS: p.BuildS, BuildCPUS: p.BuildCPUS, OpenS: p.OpenS, OpenCPUS: p.OpenCPUS,
			BytesPerVec: p.BytesPerVec, Skipped: p.Skipped}
		for _, pt := range p.Points {
			r.Points = append(r.Points, Point{Ef: pt.Ef, QPS: pt.QPS, QPSCPU: pt.QPSCPU, Recall10: recallAt10(gt, pt.IDs)})
		}
		res = append(res, r)
	}
	return res, nil
}
